package model

import (
	"encoding/json"
	"errors"
	"time"
)

// Doc is one document of an app's docs collection.
type Doc struct {
	ID      string          // a UUIDv7, in its canonical text form
	Doc     json.RawMessage // a JSON object, without _id and _version
	Version int64
	// Keys are, in a query's answer, the document's values of the
	// query's order paths (JSON text, nil where a path is missing).
	Keys []json.RawMessage
}

// DocsPath is a path into a document: its segments, as in "author.id".
type DocsPath []string

// DocsCond is one condition of a query on a path: Op is one of $eq, $ne,
// $gt, $gte, $lt, $lte, $in and $exists. Value is the operand as JSON (a
// JSON array for $in); Exists is $exists's operand; Type is the JSON type
// of a range operand ("number", "string" or "boolean"), which only values
// of that type can match.
type DocsCond struct {
	Path   DocsPath
	Op     string
	Value  json.RawMessage
	Values []string // $in's operands, each as JSON text
	Exists bool
	Type   string
}

// DocsOrder is one key of a query's order: a path, or the id for a nil
// Path.
type DocsOrder struct {
	Path DocsPath
	Desc bool
}

// DocsQuery selects documents of one collection: all Where conditions
// hold; in the Order given, then by id ascending unless the id is part of
// Order; resuming after the position After when it is set.
type DocsQuery struct {
	AppID, Collection string
	Where             []DocsCond
	Order             []DocsOrder
	After             *DocsPosition
	Limit             int
	// Contains, when set, matches only documents whose JSON text (as
	// PostgreSQL writes it) holds it: the admin API's text search, a scan
	// of the collection's documents that the other conditions leave.
	Contains string
}

// DocsPosition is the position of a document in a query's order: its
// values of the order's paths (JSON text, nil where the path is missing)
// and its id.
type DocsPosition struct {
	Keys []json.RawMessage
	ID   string
}

// DocsIndex is an index of a collection on the values of paths.
type DocsIndex struct {
	AppID, Collection string
	Name              string // derived from the rest by a hash
	Paths             []DocsPath
	Unique            bool
	// MaxPerApp bounds the indexes of the app, all collections together
	// (every write of any app's documents checks every index's
	// predicate): a new index past it fails with ErrDocsIndexLimit. 0: no
	// bound.
	MaxPerApp int
}

// ErrDocsIndexValue refuses a document whose value of an indexed path is
// too large for the index (PostgreSQL's btree takes about 2.7 kB).
var ErrDocsIndexValue = errors.New("a value of an indexed path is too large to index")

// ErrDocsIndexLimit refuses an index past an app's limit.
var ErrDocsIndexLimit = errors.New("the app has as many docs indexes as it may")

// DocsDuplicate is the error of a write that would repeat the values of a
// unique index's paths; it is an ErrConflict. Paths is nil when the index
// could not be told.
type DocsDuplicate struct {
	Paths []DocsPath
}

func (e *DocsDuplicate) Error() string { return "a unique index's values are taken" }

// Unwrap makes a DocsDuplicate an ErrConflict.
func (e *DocsDuplicate) Unwrap() error { return ErrConflict }

// DocsCollection is one docs collection of an app as an administrator
// sees it: its documents, the bytes of their JSON text, and its indexes.
// A collection is listed while it holds documents or has an index.
type DocsCollection struct {
	Name      string          `json:"name"`
	Documents int64           `json:"documents"`
	Bytes     int64           `json:"bytes"`
	Indexes   []DocsIndexInfo `json:"indexes"`
}

// DocsIndexInfo is one index of a docs collection, as the admin API shows
// it: its paths dotted ("author.id").
type DocsIndexInfo struct {
	Name       string    `json:"name"`
	Collection string    `json:"collection"`
	Paths      []string  `json:"paths"`
	Unique     bool      `json:"unique"`
	CreatedAt  time.Time `json:"created_at"`
}
