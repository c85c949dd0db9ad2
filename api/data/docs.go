package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// DocsStore is the storage of docs collections; appliance/store's Store
// satisfies it. Documents of an app are only ever reached with its id.
type DocsStore interface {
	InsertDoc(ctx context.Context, appID, collection, id string, doc []byte) (int64, error)
	GetDoc(ctx context.Context, appID, collection, id string) (model.Doc, error)
	ReplaceDoc(ctx context.Context, appID, collection, id string, doc []byte, ifVersion *int64) (int64, error)
	UpdateDoc(ctx context.Context, appID, collection, id string, ifVersion *int64, change func([]byte) ([]byte, error)) (int64, error)
	DeleteDoc(ctx context.Context, appID, collection, id string, ifVersion *int64) (bool, error)
	FindDocs(ctx context.Context, q model.DocsQuery) ([]model.Doc, error)
	CountDocs(ctx context.Context, q model.DocsQuery) (int64, error)
	EnsureDocsIndex(ctx context.Context, ix model.DocsIndex) error
}

// docsArgs are the arguments of every docs operation, as the SDK sends
// them.
type docsArgs struct {
	ID           string          `json:"id"`
	Doc          json.RawMessage `json:"doc"`
	Patch        json.RawMessage `json:"patch"`
	CheckVersion bool            `json:"checkVersion"`
	IfVersion    *int64          `json:"ifVersion"`
	Where        json.RawMessage `json:"where"`
	OrderBy      json.RawMessage `json:"orderBy"`
	Limit        int             `json:"limit"`
	Cursor       string          `json:"cursor"`
	Paths        []string        `json:"paths"`
	Unique       bool            `json:"unique"`
}

// prefixed puts what before a DataError's message.
func prefixed(what string, err error) error {
	var de *engine.DataError
	if errors.As(err, &de) {
		return &engine.DataError{Code: de.Code, Message: what + ": " + de.Message}
	}
	return err
}

// docOp answers the docs operation op, or says it is not one.
func (s *Service) docOp(ctx context.Context, app string, call engine.DataCall) (any, bool, error) {
	ops := map[string]func(context.Context, string, engine.DataCall, docsArgs) (any, error){
		"docs.insert":      s.docsInsert,
		"docs.get":         s.docsGet,
		"docs.replace":     s.docsReplace,
		"docs.update":      s.docsUpdate,
		"docs.delete":      s.docsDelete,
		"docs.find":        s.docsFind,
		"docs.count":       s.docsCount,
		"docs.ensureIndex": s.docsEnsureIndex,
	}
	fn, ok := ops[call.Op]
	if !ok {
		return nil, false, nil
	}
	var a docsArgs
	if err := decodeArgs(call, &a); err != nil {
		return nil, true, err
	}
	v, err := fn(ctx, app, call, a)
	return v, true, err
}

// ifVersion is a write's version condition: nil for none.
func (a docsArgs) ifVersion(what string) (*int64, error) {
	if !a.CheckVersion {
		return nil, nil
	}
	if a.IfVersion == nil || *a.IfVersion < 1 {
		return nil, invalid("%s: ifVersion must be a version number", what)
	}
	return a.IfVersion, nil
}

// withMeta is a stored document as get returns it: its JSON object with
// _id and _version first.
func withMeta(d model.Doc) json.RawMessage {
	head := `{"_id":"` + d.ID + `","_version":` + itoa(d.Version)
	body := strings.TrimSpace(string(d.Doc))
	body = strings.TrimSpace(strings.TrimPrefix(body, "{"))
	if body == "}" {
		return json.RawMessage(head + "}")
	}
	return json.RawMessage(head + "," + body)
}

func (s *Service) docsInsert(ctx context.Context, app string, call engine.DataCall, a docsArgs) (any, error) {
	what := "insert into " + quote(call.Collection)
	doc, err := documentText(what, a.Doc)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	if err := s.reserve(ctx, app, what, int64(len(doc))); err != nil {
		return nil, err
	}
	version, err := s.docs.InsertDoc(ctx, app, call.Collection, id.String(), doc)
	if err != nil {
		return nil, duplicate(what, err)
	}
	return map[string]any{"id": id.String(), "version": version}, nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// duplicate turns a unique index's refusal (or an index's, of a value too
// large for it) into the script's error.
func duplicate(what string, err error) error {
	if errors.Is(err, model.ErrDocsIndexValue) {
		return indexValueTooLarge(what)
	}
	var dup *model.DocsDuplicate
	if !errors.As(err, &dup) {
		return err
	}
	msg := what + ": a unique index is violated"
	if len(dup.Paths) > 0 {
		names := make([]string, len(dup.Paths))
		for i, p := range dup.Paths {
			names[i] = quote(strings.Join(p, "."))
		}
		msg = what + ": another document already has these values of the unique index on " + strings.Join(names, ", ")
	}
	return &engine.DataError{Code: engine.CodeDataDuplicate, Message: msg + "; nothing was changed"}
}

func (s *Service) docsGet(ctx context.Context, app string, call engine.DataCall, a docsArgs) (any, error) {
	if !isDocID(a.ID) {
		return nil, nil // no document has such an id
	}
	d, err := s.docs.GetDoc(ctx, app, call.Collection, a.ID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return withMeta(d), nil
}

// docMismatch is the error of a write whose ifVersion did not hold.
func docMismatch(op, id string, ifVersion int64) error {
	return &engine.DataError{Code: engine.CodeDataConflict,
		Message: op + "(" + quote(id) + "): the document is not at version " + itoa(ifVersion) + " any more (or is gone); nothing was changed"}
}

// versionResult is what replace and update return: {version}, or null
// for an absent document.
func versionResult(op, id string, version int64, ifVersion *int64, err error) (any, error) {
	switch {
	case errors.Is(err, model.ErrConflict) && ifVersion != nil && !errors.As(err, new(*model.DocsDuplicate)):
		return nil, docMismatch(op, id, *ifVersion)
	case errors.Is(err, model.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, duplicate(op+"("+quote(id)+")", err)
	}
	return map[string]int64{"version": version}, nil
}

func (s *Service) docsReplace(ctx context.Context, app string, call engine.DataCall, a docsArgs) (any, error) {
	what := "replace(" + quote(a.ID) + ")"
	ifVersion, err := a.ifVersion(what)
	if err != nil {
		return nil, err
	}
	doc, err := documentText(what, a.Doc)
	if err != nil {
		return nil, err
	}
	if !isDocID(a.ID) {
		return versionResult("replace", a.ID, 0, ifVersion, absent(ifVersion))
	}
	if err := s.reserve(ctx, app, what, int64(len(doc))); err != nil {
		return nil, err
	}
	version, err := s.docs.ReplaceDoc(ctx, app, call.Collection, a.ID, doc, ifVersion)
	return versionResult("replace", a.ID, version, ifVersion, err)
}

// absent is the store's answer for an id no document can have.
func absent(ifVersion *int64) error {
	if ifVersion != nil {
		return model.ErrConflict
	}
	return model.ErrNotFound
}

func (s *Service) docsUpdate(ctx context.Context, app string, call engine.DataCall, a docsArgs) (any, error) {
	what := "update(" + quote(a.ID) + ")"
	ifVersion, err := a.ifVersion(what)
	if err != nil {
		return nil, err
	}
	if jsonType(a.Patch) != "object" {
		return nil, invalid("%s: a patch must be an object (a JSON merge patch), not %s", what, orNothing(jsonType(a.Patch)))
	}
	patch, err := decodeJSON(a.Patch)
	if err != nil {
		return nil, invalid("%s: the patch is not valid JSON: %v", what, err)
	}
	if err := checkValue(patch, 1); err != nil {
		return nil, prefixed(what, err)
	}
	if !isDocID(a.ID) {
		return versionResult("update", a.ID, 0, ifVersion, absent(ifVersion))
	}
	// The merged document's size is known only under the row's lock; the
	// patch's is what it can add.
	if err := s.reserve(ctx, app, what, int64(len(a.Patch))); err != nil {
		return nil, err
	}
	version, err := s.docs.UpdateDoc(ctx, app, call.Collection, a.ID, ifVersion, func(cur []byte) ([]byte, error) {
		doc, err := decodeJSON(cur)
		if err != nil {
			return nil, err
		}
		p := patch.(map[string]any)
		for _, k := range reserved {
			delete(p, k)
		}
		return finishDocument(what, mergePatch(doc, p).(map[string]any), nil)
	})
	return versionResult("update", a.ID, version, ifVersion, err)
}

func (s *Service) docsDelete(ctx context.Context, app string, call engine.DataCall, a docsArgs) (any, error) {
	ifVersion, err := a.ifVersion("delete(" + quote(a.ID) + ")")
	if err != nil {
		return nil, err
	}
	deleted := false
	if isDocID(a.ID) {
		deleted, err = s.docs.DeleteDoc(ctx, app, call.Collection, a.ID, ifVersion)
	} else if ifVersion != nil {
		err = model.ErrConflict
	}
	if errors.Is(err, model.ErrConflict) {
		return nil, docMismatch("delete", a.ID, *ifVersion)
	}
	if err != nil {
		return nil, err
	}
	if deleted {
		s.freed(app)
	}
	return map[string]bool{"deleted": deleted}, nil
}

// query reads a find's or count's where and orderBy.
func query(app string, call engine.DataCall, a docsArgs) (model.DocsQuery, error) {
	q := model.DocsQuery{AppID: app, Collection: call.Collection}
	var err error
	if q.Where, err = parseWhere(a.Where); err != nil {
		return q, err
	}
	q.Order, err = parseOrder(a.OrderBy)
	return q, err
}

func (s *Service) docsFind(ctx context.Context, app string, call engine.DataCall, a docsArgs) (any, error) {
	q, err := query(app, call, a)
	if err != nil {
		return nil, prefixed("find", err)
	}
	page, err := findPage(ctx, s.docs, q, a.Limit, a.Cursor)
	if err != nil {
		return nil, err
	}
	items := make([]json.RawMessage, len(page.Docs))
	for i, d := range page.Docs {
		items[i] = withMeta(d)
	}
	out := map[string]any{"items": items, "complete": page.Complete}
	if !page.Complete {
		out["cursor"] = page.Cursor
	}
	return out, nil
}

// DocsFinder is the part of a DocsStore that finds documents.
type DocsFinder interface {
	FindDocs(ctx context.Context, q model.DocsQuery) ([]model.Doc, error)
}

// DocsPage is a page of a find: its documents and, when it is not
// Complete, the Cursor of the next page.
type DocsPage struct {
	Docs     []model.Doc
	Cursor   string
	Complete bool
}

// findPage finds the page of at most limit (0: MaxFind) documents of q
// after cursor ("" for the first page).
func findPage(ctx context.Context, st DocsFinder, q model.DocsQuery, limit int, cursor string) (DocsPage, error) {
	switch {
	case limit == 0:
		limit = MaxFind
	case limit < 0 || limit > MaxFind:
		return DocsPage{}, invalid("find: limit must be from 1 to %d", MaxFind)
	}
	if cursor != "" {
		var err error
		if q.After, err = decodeDocsCursor(q, cursor); err != nil {
			return DocsPage{}, err
		}
	}
	q.Limit = limit + 1 // one more tells whether the result is complete
	found, err := st.FindDocs(ctx, q)
	if err != nil {
		return DocsPage{}, err
	}
	page := DocsPage{Docs: found, Complete: len(found) <= limit}
	if !page.Complete {
		page.Docs = found[:limit]
		page.Cursor = encodeDocsCursor(q, page.Docs[limit-1])
	}
	return page, nil
}

func (s *Service) docsCount(ctx context.Context, app string, call engine.DataCall, a docsArgs) (any, error) {
	if a.OrderBy != nil || a.Limit != 0 || a.Cursor != "" {
		return nil, invalid("count takes only where")
	}
	q, err := query(app, call, a)
	if err != nil {
		return nil, prefixed("count", err)
	}
	n, err := s.docs.CountDocs(ctx, q)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"count": n}, nil
}

// indexName is the name of an app's collection's index on paths: a hash,
// so that no text of a script is part of a name in the database.
func indexName(app, collection string, paths []model.DocsPath, unique bool) string {
	b, _ := json.Marshal([]any{app, collection, paths, unique})
	h := sha256.Sum256(b)
	return "docs_ix_" + hex.EncodeToString(h[:20])
}

func (s *Service) docsEnsureIndex(ctx context.Context, app string, call engine.DataCall, a docsArgs) (any, error) {
	name, err := ensureIndex(ctx, s.docs, app, call.Collection, a.Paths, a.Unique)
	if err != nil {
		return nil, err
	}
	return map[string]string{"index": name}, nil
}

// DocsIndexer is the part of a DocsStore that makes indexes.
type DocsIndexer interface {
	EnsureDocsIndex(ctx context.Context, ix model.DocsIndex) error
}

// ensureIndex makes the index of an app's collection on paths unless it
// exists, and returns its name.
func ensureIndex(ctx context.Context, st DocsIndexer, app, collection string, paths []string, unique bool) (string, error) {
	if len(paths) == 0 {
		return "", invalid("ensureIndex: give the paths to index")
	}
	if len(paths) > MaxIndexPaths {
		return "", tooLarge("ensureIndex: at most %d paths in one index", MaxIndexPaths)
	}
	ix := model.DocsIndex{AppID: app, Collection: collection, Unique: unique, MaxPerApp: MaxIndexes}
	for _, p := range paths {
		path, err := parsePath("ensureIndex", p)
		if err != nil {
			return "", err
		}
		ix.Paths = append(ix.Paths, path)
	}
	ix.Name = indexName(app, collection, ix.Paths, unique)
	if err := st.EnsureDocsIndex(ctx, ix); err != nil {
		if errors.Is(err, model.ErrDocsIndexValue) {
			return "", indexValueTooLarge("ensureIndex")
		}
		if errors.Is(err, model.ErrDocsIndexLimit) {
			return "", tooLarge("ensureIndex: the app's docs collections have %d indexes, the most they may have; nothing was changed", MaxIndexes)
		}
		var dup *model.DocsDuplicate
		if errors.As(err, &dup) {
			return "", &engine.DataError{Code: engine.CodeDataDuplicate,
				Message: "ensureIndex: documents of " + quote(collection) + " already repeat values of " +
					quote(strings.Join(paths, ", ")) + ", so the unique index cannot be made; nothing was changed"}
		}
		return "", err
	}
	return ix.Name, nil
}

func indexValueTooLarge(what string) error {
	return tooLarge("%s: a value of an indexed path is too large to index (an index takes values up to about 2 kB); nothing was changed", what)
}
