package tui

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/tui/client"
)

var (
	keyQueues  = bind([]string{"Q"}, "Q", "queues")
	keyRedrive = bind([]string{"R"}, "R", "redrive dead")
	keyRetry   = bind([]string{"x"}, "x", "retry now")
)

// queuesScreen lists an app's queues with their depth, in flight,
// retrying, failed and oldest age: enter opens a queue's messages, R
// redrives its dead ones (editors).
type queuesScreen struct {
	list
	app    client.App
	queues []client.Queue
}

type queuesMsg struct {
	to
	queues []client.Queue
}

func newQueuesScreen(e *env, app client.App) *queuesScreen {
	return &queuesScreen{app: app, list: newList(e, "no queues: a queue appears when a script sends to it",
		column{"QUEUE", 0, 0}, column{"DEPTH", 8, 0}, column{"IN FLIGHT", 10, 0}, column{"RETRYING", 9, 0},
		column{"FAILED", 8, 0}, column{"OLDEST", 10, 0}).withDialog("")}
}

func (s *queuesScreen) resume() tea.Cmd { return s.init() }

func (s *queuesScreen) title() string { return "queues of " + s.app.Name }

func (s *queuesScreen) init() tea.Cmd { return s.e.call("load queues", s.fetch) }

func (s *queuesScreen) fetch(ctx context.Context) (tea.Msg, error) {
	qs, err := s.e.c.Queues(ctx, s.app.ID)
	return queuesMsg{s.to(), qs}, err
}

func (s *queuesScreen) keys() bindings {
	if !s.e.can(access.WriteApp, s.app.ID) {
		return s.list.keys(bindings{keyOpen, keyFilter, keyReload})
	}
	return s.list.keys(bindings{keyOpen, keyRedrive, keyFilter, keyReload})
}

func (s *queuesScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(queuesMsg); ok {
		s.queues, s.loaded = msg.queues, true
		rows := make([][]string, len(s.queues))
		for i, q := range s.queues {
			rows[i] = []string{q.Queue, strconv.Itoa(q.Depth), strconv.Itoa(q.InFlight), strconv.Itoa(q.Retrying),
				strconv.Itoa(q.Failed), age(q.OldestAgeSeconds)}
		}
		s.t.setRows(rows)
		return nil
	}
	return s.dispatch(msg, s.init, s.onKey)
}

// age shows how old the oldest message is, or - for none.
func age(seconds float64) string {
	if seconds <= 0 {
		return "-"
	}
	return (time.Duration(seconds) * time.Second).String()
}

func (s *queuesScreen) onKey(k tea.KeyMsg) tea.Cmd {
	i := s.t.selected()
	if i < 0 {
		return nil
	}
	q := s.queues[i]
	switch {
	case key.Matches(k, keyOpen):
		return push(newQueueMessagesScreen(s.e, s.app, q.Queue))
	case key.Matches(k, keyRedrive) && s.e.can(access.WriteApp, s.app.ID):
		s.ask.ask(fmt.Sprintf("send the dead messages of %s back to be delivered?", q.Queue), func() tea.Cmd {
			return s.e.change("redrive "+q.Queue, func(ctx context.Context) error {
				_, err := s.e.c.RedriveQueue(ctx, s.app.ID, q.Queue)
				return err
			}, s.fetch)
		})
	}
	return nil
}

// queueMessagesScreen lists a queue's messages, oldest first: x delivers
// the one under the cursor again now, d deletes it (editors).
type queueMessagesScreen struct {
	list
	app   client.App
	queue string
	msgs  []client.QueueMessage
}

type queueMessagesMsg struct {
	to
	msgs []client.QueueMessage
}

func newQueueMessagesScreen(e *env, app client.App, queue string) *queueMessagesScreen {
	return &queueMessagesScreen{app: app, queue: queue, list: newList(e, "no messages",
		column{"SENT", 19, 0}, column{"STATE", 7, 0}, column{"TRIES", 5, 0}, column{"BODY", 0, 0},
		column{"LAST ERROR", 0, 0}, column{"FROM", 0, 16}).withDialog("")}
}

func (s *queueMessagesScreen) resume() tea.Cmd { return s.init() }

func (s *queueMessagesScreen) title() string { return "messages of " + s.queue }

func (s *queueMessagesScreen) init() tea.Cmd { return s.e.call("load messages", s.fetch) }

func (s *queueMessagesScreen) fetch(ctx context.Context) (tea.Msg, error) {
	ms, err := s.e.c.QueueMessages(ctx, s.app.ID, s.queue)
	return queueMessagesMsg{s.to(), ms}, err
}

func (s *queueMessagesScreen) keys() bindings {
	if !s.e.can(access.WriteApp, s.app.ID) {
		return s.list.keys(bindings{keyFilter, keyReload})
	}
	return s.list.keys(bindings{keyRetry, keyDelete, keyFilter, keyReload})
}

func (s *queueMessagesScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(queueMessagesMsg); ok {
		s.msgs, s.loaded = msg.msgs, true
		rows := make([][]string, len(s.msgs))
		for i, m := range s.msgs {
			rows[i] = []string{m.CreatedAt.Local().Format("2006-01-02 15:04:05"), m.State, strconv.Itoa(m.Attempts),
				string(m.Body), m.LastError, m.OriginQueue}
		}
		s.t.setRows(rows)
		return nil
	}
	return s.dispatch(msg, s.init, s.onKey)
}

func (s *queueMessagesScreen) onKey(k tea.KeyMsg) tea.Cmd {
	i := s.t.selected()
	if i < 0 || !s.e.can(access.WriteApp, s.app.ID) {
		return nil
	}
	m := s.msgs[i]
	switch {
	case key.Matches(k, keyRetry):
		return s.e.change("retry the message", func(ctx context.Context) error {
			return s.e.c.RetryQueueMessage(ctx, s.app.ID, s.queue, m.ID)
		}, s.fetch)
	case key.Matches(k, keyDelete):
		s.ask.ask("delete this message? It is not delivered again", func() tea.Cmd {
			return s.e.change("delete the message", func(ctx context.Context) error {
				return s.e.c.DeleteQueueMessage(ctx, s.app.ID, s.queue, m.ID)
			}, s.fetch)
		})
	}
	return nil
}
