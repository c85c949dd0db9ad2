package tui

import (
	stdbytes "bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/picloud/picloud/tui/client"
)

// dataKind is one kind of an app's data that the data screens browse: kv
// collections, document collections. Items are named by an id (a key, a
// document's id) within a collection of an app.
type dataKind interface {
	// noun names an item, for the screens' words ("key").
	noun() string
	// label marks the kind's collections in the list of them ("kv").
	label() string
	// columns are the columns of a listing of items, and cells a row's
	// text in them.
	columns() []column
	cells(r dataRow) []string
	collections(ctx context.Context, appID string) ([]dataCollection, error)
	// page returns items of a collection in order, with contains (a
	// substring of the id, "" for all) and cursor (from the page before).
	page(ctx context.Context, appID, collection, contains, cursor string) (dataPage, error)
	// item returns one item with its value as text to show and edit.
	item(ctx context.Context, appID, collection, id string) (dataItem, error)
	// save writes text as the new value of it, only over the version
	// that was loaded; a text the kind cannot take is an error that says
	// why, and nothing is written.
	save(ctx context.Context, appID, collection string, it dataItem, text string) error
	// remove deletes an item, only at the version shown.
	remove(ctx context.Context, appID, collection string, r dataRow) error
}

// dataCollection is a collection with its items and the bytes they take.
type dataCollection struct {
	name         string
	items, bytes int64
	kind         dataKind // set by the collections screen
}

// dataRow is one item of a listing.
type dataRow struct {
	id, typ   string
	size      int64
	version   int64
	expiresAt *time.Time
	preview   string // the start of a document
}

// dataPage is a page of items; cursor asks for the next while not
// complete.
type dataPage struct {
	rows     []dataRow
	cursor   string
	complete bool
}

// dataItem is one item with its value as text: JSON pretty-printed.
type dataItem struct {
	id, typ string
	text    string
	version int64
	// details are lines about the item to show above its value.
	details []string
	// raw is what the kind needs to write the item back.
	raw any
}

// kvKind is the kv collections of an app.
type kvKind struct{ c *client.Client }

func (kvKind) noun() string { return "key" }

func (kvKind) label() string { return "kv" }

func (kvKind) columns() []column { return kvColumns() }

func (kvKind) cells(r dataRow) []string { return kvCells(r) }

// kvColumns are the columns of a listing of keys.
func kvColumns() []column {
	return []column{{"KEY", 0, 0}, {"TYPE", 6, 0}, {"SIZE", 9, 0}, {"VERSION", 9, 0}, {"EXPIRES", 19, 0}}
}

// kvCells is a key's row in a listing.
func kvCells(r dataRow) []string {
	expires := "-"
	if r.expiresAt != nil {
		expires = r.expiresAt.Local().Format("2006-01-02 15:04:05")
	}
	return []string{r.id, r.typ, bytes(r.size), fmt.Sprint(r.version), expires}
}

func (k kvKind) collections(ctx context.Context, appID string) ([]dataCollection, error) {
	cs, err := k.c.KVCollections(ctx, appID)
	out := make([]dataCollection, len(cs))
	for i, c := range cs {
		out[i] = dataCollection{name: c.Name, items: c.Keys, bytes: c.Bytes}
	}
	return out, err
}

// kvPageSize is the keys one page loads.
const kvPageSize = 100

// errSlashCollection explains why a collection whose name holds "/"
// cannot be opened: the admin API takes the collection as one path
// segment.
var errSlashCollection = errors.New(`the admin API cannot reach a collection whose name holds "/"; the app's scripts can`)

func (k kvKind) page(ctx context.Context, appID, collection, contains, cursor string) (dataPage, error) {
	if strings.Contains(collection, "/") {
		return dataPage{}, errSlashCollection
	}
	p, err := k.c.KVKeys(ctx, appID, collection, client.KVQuery{Contains: contains, Cursor: cursor, Limit: kvPageSize})
	out := dataPage{cursor: p.Cursor, complete: p.Complete, rows: make([]dataRow, len(p.Keys))}
	for i, key := range p.Keys {
		out.rows[i] = dataRow{id: key.Key, typ: key.Type, size: key.Size, version: key.Version, expiresAt: key.ExpiresAt}
	}
	return out, err
}

func (k kvKind) item(ctx context.Context, appID, collection, id string) (dataItem, error) {
	v, err := k.c.KVValue(ctx, appID, collection, id)
	if err != nil {
		return dataItem{}, err
	}
	it := dataItem{id: v.Key, typ: v.Type, version: v.Version, raw: v}
	switch v.Type {
	case "json":
		it.text = prettyJSON(v.Value)
	default: // text, and bytes as base64
		if err := json.Unmarshal(v.Value, &it.text); err != nil {
			return dataItem{}, fmt.Errorf("read the value of %q: %w", id, err)
		}
	}
	it.details = append(it.details, fmt.Sprintf("type %s · %d bytes · version %d", v.Type, v.Size, v.Version))
	if v.Type == "bytes" {
		it.details[0] += " · shown as base64"
	}
	if v.ExpiresAt != nil {
		it.details = append(it.details, "expires "+v.ExpiresAt.Local().Format("2006-01-02 15:04:05"))
	}
	if len(v.Metadata) > 0 {
		it.details = append(it.details, "metadata "+string(v.Metadata))
	}
	return it, nil
}

// prettyJSON indents JSON by two spaces; what is not JSON stays as it is.
func prettyJSON(raw []byte) string {
	var b stdbytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

// kvValue is the value of a write of a key of type typ with text: JSON
// checked and compacted, text and base64 as a string.
func kvValue(typ, text string) (json.RawMessage, error) {
	if typ != "json" {
		return json.Marshal(text)
	}
	var b stdbytes.Buffer
	if err := json.Compact(&b, []byte(text)); err != nil {
		return nil, fmt.Errorf("the value is not valid JSON: %w; nothing was saved", err)
	}
	return b.Bytes(), nil
}

// save writes the key back with its type, metadata and expiry, over the
// version loaded only.
func (k kvKind) save(ctx context.Context, appID, collection string, it dataItem, text string) error {
	v, _ := it.raw.(client.KVValue)
	value, err := kvValue(it.typ, text)
	if err != nil {
		return err
	}
	version := it.version
	_, err = k.c.PutKV(ctx, appID, collection, it.id, client.KVWrite{Type: it.typ, Value: value,
		Metadata: v.Metadata, ExpiresAt: v.ExpiresAt, IfVersion: &version})
	return err
}

func (k kvKind) remove(ctx context.Context, appID, collection string, r dataRow) error {
	return k.c.DeleteKV(ctx, appID, collection, r.id, r.version)
}
