package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/model"
)

// DefaultDocsPage is the documents of a page of the admin API when the
// request names no limit.
const DefaultDocsPage = 100

// DocsCollections lists an app's docs collections with their documents,
// bytes and indexes.
func (s *Service) DocsCollections(ctx context.Context, appID string) ([]model.DocsCollection, error) {
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	cs, err := s.store.DocsCollections(ctx, appID)
	if cs == nil {
		cs = []model.DocsCollection{}
	}
	return cs, err
}

// FindDocs returns a page of a collection's documents that f selects,
// checked and paged as a script's find.
func (s *Service) FindDocs(ctx context.Context, f data.DocsFind) (data.DocsPage, error) {
	if f.Limit == 0 {
		f.Limit = DefaultDocsPage
	}
	if _, err := s.store.AppByID(ctx, f.AppID); err != nil {
		return data.DocsPage{}, err
	}
	return data.FindDocs(ctx, s.store, f)
}

// Doc returns one document of a collection.
func (s *Service) Doc(ctx context.Context, appID, collection, id string) (model.Doc, error) {
	if err := checkDocName(collection, id); err != nil {
		return model.Doc{}, err
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return model.Doc{}, err
	}
	return s.store.GetDoc(ctx, appID, collection, id)
}

// InsertDoc stores a new document in an app's collection, with the checks
// and limits of a script's insert, and returns its id and version. The
// audit record names the collection and the id, never the document.
// It counts against the app's storage quota as a script's insert does.
func (s *Service) InsertDoc(ctx context.Context, a model.Actor, appID, collection string, doc json.RawMessage) (string, int64, error) {
	if err := data.CheckCollection(collection); err != nil {
		return "", 0, err
	}
	text, err := data.CheckDocument(doc)
	if err != nil {
		return "", 0, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", 0, fmt.Errorf("make a document id: %w", err)
	}
	if err := s.reserveStorage(ctx, appID, "insert into "+collection, len(text)); err != nil {
		return "", 0, err
	}
	var version int64
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.AppByID(ctx, appID); err != nil {
			return err
		}
		if version, err = s.store.InsertDoc(ctx, appID, collection, id.String(), text); err != nil {
			return data.DocsWriteError(err)
		}
		return s.audit(ctx, a, "docs.insert", appID, id.String(), map[string]any{"collection": collection,
			"bytes": len(text), "version": version})
	})
	if err != nil {
		return "", 0, err
	}
	s.log.Info("document inserted", "app", appID, "collection", collection, "user", a.Username)
	return id.String(), version, nil
}

// ReplaceDoc writes doc over a document of an app's collection, with the
// checks and limits of a script's replace; with ifVersion, only over that
// version. It returns the new version.
func (s *Service) ReplaceDoc(ctx context.Context, a model.Actor, appID, collection, id string, doc json.RawMessage, ifVersion *int64) (int64, error) {
	if err := checkDocName(collection, id); err != nil {
		return 0, err
	}
	text, err := data.CheckDocument(doc)
	if err != nil {
		return 0, err
	}
	if err := s.reserveStorage(ctx, appID, fmt.Sprintf("replace %q", id), len(text)); err != nil {
		return 0, err
	}
	var version int64
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.AppByID(ctx, appID); err != nil {
			return err
		}
		if version, err = s.store.ReplaceDoc(ctx, appID, collection, id, text, ifVersion); err != nil {
			return docConflict(err, "replace", id, ifVersion)
		}
		details := map[string]any{"collection": collection, "bytes": len(text), "version": version}
		if ifVersion != nil {
			details["if_version"] = *ifVersion
		}
		return s.audit(ctx, a, "docs.replace", appID, id, details)
	})
	if err != nil {
		return 0, err
	}
	s.log.Info("document replaced", "app", appID, "collection", collection, "user", a.Username)
	return version, nil
}

// DeleteDoc deletes a document of an app's collection; with ifVersion,
// only that version of it. A document that is not there is
// model.ErrNotFound.
func (s *Service) DeleteDoc(ctx context.Context, a model.Actor, appID, collection, id string, ifVersion *int64) error {
	if err := checkDocName(collection, id); err != nil {
		return err
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.AppByID(ctx, appID); err != nil {
			return err
		}
		deleted, err := s.store.DeleteDoc(ctx, appID, collection, id, ifVersion)
		if err != nil {
			return docConflict(err, "delete", id, ifVersion)
		}
		if !deleted {
			return fmt.Errorf("document %s of collection %q: %w", id, collection, model.ErrNotFound)
		}
		s.storageFreed(appID)
		details := map[string]any{"collection": collection}
		if ifVersion != nil {
			details["if_version"] = *ifVersion
		}
		return s.audit(ctx, a, "docs.delete", appID, id, details)
	})
	if err != nil {
		return err
	}
	s.log.Info("document deleted", "app", appID, "collection", collection, "user", a.Username)
	return nil
}

// DocsIndexes lists the indexes of an app's collection.
func (s *Service) DocsIndexes(ctx context.Context, appID, collection string) ([]model.DocsIndexInfo, error) {
	if err := data.CheckCollection(collection); err != nil {
		return nil, err
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	return s.store.DocsIndexes(ctx, appID, collection)
}

// EnsureDocsIndex makes the index of an app's collection on paths unless
// it exists, as a script's ensureIndex, and returns its name. It is
// audited, with the paths.
func (s *Service) EnsureDocsIndex(ctx context.Context, a model.Actor, appID, collection string, paths []string, unique bool) (string, error) {
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return "", err
	}
	// Not in one transaction with the audit record: making an index locks
	// the documents against writes, which should last no longer than it.
	name, err := data.EnsureDocsIndex(ctx, s.store, appID, collection, paths, unique)
	if err != nil {
		return "", err
	}
	if err := s.audit(ctx, a, "docs.index.ensure", appID, name, map[string]any{"collection": collection,
		"paths": paths, "unique": unique}); err != nil {
		return "", err
	}
	s.log.Info("docs index ensured", "app", appID, "collection", collection, "index", name, "user", a.Username)
	return name, nil
}

// DropDocsIndex drops an index of an app's collection; one that is not
// there is model.ErrNotFound. A script's ensureIndex makes it again.
func (s *Service) DropDocsIndex(ctx context.Context, a model.Actor, appID, collection, name string) error {
	if err := data.CheckCollection(collection); err != nil {
		return err
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.AppByID(ctx, appID); err != nil {
			return err
		}
		dropped, err := s.store.DropDocsIndex(ctx, appID, collection, name)
		if err != nil {
			return err
		}
		if !dropped {
			return fmt.Errorf("index %q of collection %q: %w", name, collection, model.ErrNotFound)
		}
		return s.audit(ctx, a, "docs.index.drop", appID, name, map[string]any{"collection": collection})
	})
	if err != nil {
		return err
	}
	s.log.Info("docs index dropped", "app", appID, "collection", collection, "index", name, "user", a.Username)
	return nil
}

func checkDocName(collection, id string) error {
	if err := data.CheckCollection(collection); err != nil {
		return err
	}
	return data.CheckDocID(id)
}

// docConflict words a failed version check for a person; other errors
// of a write are the data service's (a unique index's refusal is a
// model.ErrConflict too, in its own words).
func docConflict(err error, op, id string, ifVersion *int64) error {
	if ifVersion == nil || !errors.Is(err, model.ErrConflict) || errors.As(err, new(*model.DocsDuplicate)) {
		return data.DocsWriteError(err)
	}
	return fmt.Errorf("%w: cannot %s document %s: it is not at version %d any more (or is gone); nothing was changed",
		model.ErrConflict, op, id, *ifVersion)
}
