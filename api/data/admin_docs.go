package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// DocsFind is an administrator's search of a collection's documents: the
// SDK's find arguments, as JSON text, and a text to look for.
type DocsFind struct {
	AppID, Collection string
	Where             json.RawMessage // the SDK's where object; nil: every document
	OrderBy           json.RawMessage // the SDK's orderBy list; nil: by id
	Contains          string          // only documents whose JSON text holds it
	Cursor            string          // from the page before; "" for the first
	Limit             int             // 0: MaxFind
}

// FindDocs returns a page of the documents that f selects, with the
// checks, limits and cursors of a script's find. Its errors for f wrap
// model.ErrInvalid and say what is wrong.
func FindDocs(ctx context.Context, st DocsFinder, f DocsFind) (DocsPage, error) {
	if err := CheckCollection(f.Collection); err != nil {
		return DocsPage{}, err
	}
	if f.Contains != "" && !isText(f.Contains) || len(f.Contains) > MaxKeyBytes {
		return DocsPage{}, fmt.Errorf("%w: contains must be valid UTF-8 without NUL characters, at most %d bytes",
			model.ErrInvalid, MaxKeyBytes)
	}
	call := engine.DataCall{Collection: f.Collection}
	q, err := query(f.AppID, call, docsArgs{Where: f.Where, OrderBy: f.OrderBy})
	if err != nil {
		return DocsPage{}, adminError(prefixed("find", err))
	}
	q.Contains = f.Contains
	page, err := findPage(ctx, st, q, f.Limit, f.Cursor)
	return page, adminError(err)
}

// CheckDocument checks a document an administrator writes as a script's
// insert and replace check theirs (a JSON object of at most MaxDocBytes,
// nothing jsonb cannot store) and returns the text to store, without the
// top-level _id and _version that reading a document adds.
func CheckDocument(doc json.RawMessage) ([]byte, error) {
	text, err := documentText("the document", doc)
	return text, adminError(err)
}

// CheckDocID checks that id is a document id as inserts make them.
func CheckDocID(id string) error {
	if !isDocID(id) {
		return fmt.Errorf("%w: %q is not a document id (ids are UUIDs, as insert returns them)", model.ErrInvalid, id)
	}
	return nil
}

// EnsureDocsIndex makes the index of an app's collection on paths (dotted,
// as in "author.id") unless it exists, as a script's ensureIndex does, and
// returns its name. Documents that already break a unique index are a
// model.ErrConflict; other refusals, model.ErrInvalid.
func EnsureDocsIndex(ctx context.Context, st DocsIndexer, appID, collection string, paths []string, unique bool) (string, error) {
	if err := CheckCollection(collection); err != nil {
		return "", err
	}
	name, err := ensureIndex(ctx, st, appID, collection, paths, unique)
	return name, DocsWriteError(err)
}

// DocsWriteError turns the data service's refusal of a document write
// into the admin API's: a unique index's is model.ErrConflict, the others
// model.ErrInvalid, with the same words.
func DocsWriteError(err error) error {
	if errors.Is(err, model.ErrDocsIndexValue) {
		err = indexValueTooLarge("the document")
	}
	var dup *model.DocsDuplicate
	if errors.As(err, &dup) {
		err = duplicate("the document", err)
	}
	var de *engine.DataError
	if errors.As(err, &de) && de.Code == engine.CodeDataDuplicate {
		return fmt.Errorf("%w: %s", model.ErrConflict, de.Message)
	}
	return adminError(err)
}
