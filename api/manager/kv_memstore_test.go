package manager

import (
	"context"
	"errors"

	"github.com/picloud/picloud/api/model"
)

// The manager's kv administration is tested against PostgreSQL (the api
// package's tests); the memory store has no kv data.
var errNoKV = errors.New("the memory store has no kv data")

func (m *memStore) KVCollections(context.Context, string) ([]model.KVCollection, error) {
	return nil, errNoKV
}

func (m *memStore) BrowseKV(context.Context, model.KVBrowseQuery) ([]model.KVKeyInfo, error) {
	return nil, errNoKV
}

func (m *memStore) GetKV(context.Context, string, string, string) (model.KVEntry, error) {
	return model.KVEntry{}, errNoKV
}

func (m *memStore) PutKV(context.Context, model.KVPut) (int64, error) { return 0, errNoKV }

func (m *memStore) DeleteKV(context.Context, string, string, string, *int64) (bool, error) {
	return false, errNoKV
}
