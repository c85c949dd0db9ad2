package manager

import (
	"context"
	"errors"

	"github.com/picloud/picloud/api/model"
)

// The manager's docs administration is tested against PostgreSQL (the api
// package's tests); the memory store has no documents.
var errNoDocs = errors.New("the memory store has no documents")

func (m *memStore) DocsCollections(context.Context, string) ([]model.DocsCollection, error) {
	return nil, errNoDocs
}

func (m *memStore) DocsIndexes(context.Context, string, string) ([]model.DocsIndexInfo, error) {
	return nil, errNoDocs
}

func (m *memStore) DropDocsIndex(context.Context, string, string, string) (bool, error) {
	return false, errNoDocs
}

func (m *memStore) FindDocs(context.Context, model.DocsQuery) ([]model.Doc, error) {
	return nil, errNoDocs
}

func (m *memStore) GetDoc(context.Context, string, string, string) (model.Doc, error) {
	return model.Doc{}, errNoDocs
}

func (m *memStore) InsertDoc(context.Context, string, string, string, []byte) (int64, error) {
	return 0, errNoDocs
}

func (m *memStore) ReplaceDoc(context.Context, string, string, string, []byte, *int64) (int64, error) {
	return 0, errNoDocs
}

func (m *memStore) DeleteDoc(context.Context, string, string, string, *int64) (bool, error) {
	return false, errNoDocs
}

func (m *memStore) EnsureDocsIndex(context.Context, model.DocsIndex) error { return errNoDocs }
