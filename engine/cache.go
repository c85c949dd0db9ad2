package engine

import (
	"container/list"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dop251/goja"
)

// programCache keeps compiled programs per script version in a bounded LRU.
// Concurrent first calls for one key compile once: the others wait for it.
type programCache struct {
	mu       sync.Mutex
	size     int
	entries  map[string]*list.Element
	lru      list.List // of *cacheEntry, most recent first
	compiles atomic.Int64
}

type cacheEntry struct {
	key   string
	ready chan struct{} // closed when prog/err are set
	prog  *program
	err   error
}

// program is a compiled script version.
type program struct {
	prog           *goja.Program
	assignsGlobals []string // Web API globals the code seems to assign; see lazyGlobals
	requires       bool     // the code imports the SDK (calls require)
	// hidesArgs: the handler may read arguments Function.length does not
	// count; see execution.handlerArgs.
	hidesArgs bool
	guards    bool // the code can reach an allocating built-in; see needsGuards
}

func newProgram(code string) (*program, error) {
	prog, tree, err := compileAST(code)
	if err != nil {
		return nil, err
	}
	return &program{prog: prog, assignsGlobals: assignedGlobals(code),
		requires: strings.Contains(code, "require("), hidesArgs: hidesArgs(tree), guards: needsGuards(code)}, nil
}

func newProgramCache(size int) *programCache {
	return &programCache{size: size, entries: make(map[string]*list.Element)}
}

// cacheKey names a script version; ad-hoc code without a script id is keyed
// by the code itself.
func cacheKey(scriptID string, version int, code string) string {
	if scriptID == "" {
		return "code:" + code
	}
	return scriptID + "@" + strconv.Itoa(version)
}

// get returns the compiled program of a script version, compiling it once.
func (c *programCache) get(scriptID string, version int, code string) (*program, error) {
	key := cacheKey(scriptID, version, code)
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		ent := el.Value.(*cacheEntry)
		c.mu.Unlock()
		<-ent.ready
		return ent.prog, ent.err
	}
	if code == "" && scriptID != "" {
		c.mu.Unlock()
		return nil, ErrCodeNeeded
	}
	ent := &cacheEntry{key: key, ready: make(chan struct{})}
	c.entries[key] = c.lru.PushFront(ent)
	for c.lru.Len() > c.size {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.entries, old.Value.(*cacheEntry).key)
	}
	c.mu.Unlock()

	c.compiles.Add(1)
	func() {
		defer func() {
			if p := recover(); p != nil {
				ent.prog, ent.err = nil, fmt.Errorf("compiler panic: %v", p)
			}
			close(ent.ready)
		}()
		ent.prog, ent.err = newProgram(code)
	}()
	return ent.prog, ent.err
}

// len reports the number of cached entries.
func (c *programCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
