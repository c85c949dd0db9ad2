package data

import "github.com/picloud/picloud/api/model"

// IndexName is the name in the database of an app's collection's docs
// index on paths, as ensureIndex makes it: an app restored under a new id
// renames its indexes with it.
func IndexName(app, collection string, paths []model.DocsPath, unique bool) string {
	return indexName(app, collection, paths, unique)
}
