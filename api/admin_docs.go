package api

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/model"
)

// docsRoutes serves the scripts' docs collections of an app.
func (s *server) docsRoutes(authed *gin.RouterGroup) {
	read, write := s.allow(access.ReadApp, appParam), s.allow(access.WriteApp, appParam)
	authed.GET("/apps/:id/docs", read, s.listDocsCollections)
	authed.GET("/apps/:id/docs/:collection/documents", read, s.browseDocs)
	authed.POST("/apps/:id/docs/:collection/documents", write, s.insertDoc)
	authed.GET("/apps/:id/docs/:collection/documents/:doc", read, s.getDoc)
	authed.PUT("/apps/:id/docs/:collection/documents/:doc", write, s.replaceDoc)
	authed.DELETE("/apps/:id/docs/:collection/documents/:doc", write, s.deleteDoc)
	authed.GET("/apps/:id/docs/:collection/indexes", read, s.listDocsIndexes)
	authed.POST("/apps/:id/docs/:collection/indexes", write, s.ensureDocsIndex)
	authed.DELETE("/apps/:id/docs/:collection/indexes/:index", write, s.dropDocsIndex)
}

func (s *server) listDocsCollections(c *gin.Context) {
	cs, err := s.deps.Manager.DocsCollections(c, c.GetString(appKey))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"collections": cs})
}

// previewBytes is how much of a document's JSON text a listing shows.
const previewBytes = 200

// docSummary is a document in a listing: its JSON text cut to
// previewBytes (on a character's boundary), and its whole size.
type docSummary struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	Size    int    `json:"size"`
	Preview string `json:"preview"`
}

func summaryOf(d model.Doc) docSummary {
	text := string(d.Doc)
	if len(text) > previewBytes {
		cut := previewBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return docSummary{ID: d.ID, Version: d.Version, Size: len(d.Doc), Preview: text}
}

// optionalJSON is a query parameter that holds JSON, as raw JSON; nil when
// it is absent or empty.
func optionalJSON(c *gin.Context, name string) json.RawMessage {
	if v := c.Query(name); v != "" {
		return json.RawMessage(v)
	}
	return nil
}

func (s *server) browseDocs(c *gin.Context) {
	f := data.DocsFind{AppID: c.GetString(appKey), Collection: c.Param("collection"),
		Where: optionalJSON(c, "where"), OrderBy: optionalJSON(c, "order_by"),
		Contains: c.Query("contains"), Cursor: c.Query("cursor")}
	limit, ok := limitQuery(c, "documents")
	if !ok {
		return
	}
	f.Limit = limit
	page, err := s.deps.Manager.FindDocs(c, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	docs := make([]docSummary, len(page.Docs))
	for i, d := range page.Docs {
		docs[i] = summaryOf(d)
	}
	out := gin.H{"documents": docs, "complete": page.Complete}
	if !page.Complete {
		out["cursor"] = page.Cursor
	}
	c.JSON(http.StatusOK, out)
}

// docView is one document with its id and version.
type docView struct {
	ID      string          `json:"id"`
	Version int64           `json:"version"`
	Size    int             `json:"size"`
	Doc     json.RawMessage `json:"doc"`
}

func (s *server) getDoc(c *gin.Context) {
	d, err := s.deps.Manager.Doc(c, c.GetString(appKey), c.Param("collection"), c.Param("doc"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, docView{ID: d.ID, Version: d.Version, Size: len(d.Doc), Doc: d.Doc})
}

// docWriteRequest is an insert's or a replace's body: the document (a
// JSON object) and, for a replace, the version it must be at.
type docWriteRequest struct {
	Doc       json.RawMessage `json:"doc"`
	IfVersion *int64          `json:"if_version"`
}

func (s *server) insertDoc(c *gin.Context) {
	var req docWriteRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.IfVersion != nil {
		writeError(c, http.StatusBadRequest, "if_version goes with a replace (PUT of a document), not an insert")
		return
	}
	id, version, err := s.deps.Manager.InsertDoc(c, s.actor(c), c.GetString(appKey), c.Param("collection"), req.Doc)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"id": id, "version": version})
}

func (s *server) replaceDoc(c *gin.Context) {
	var req docWriteRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.IfVersion != nil && *req.IfVersion < 1 {
		writeError(c, http.StatusBadRequest, "if_version must be a version number")
		return
	}
	id := c.Param("doc")
	version, err := s.deps.Manager.ReplaceDoc(c, s.actor(c), c.GetString(appKey), c.Param("collection"), id, req.Doc, req.IfVersion)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": id, "version": version})
}

func (s *server) deleteDoc(c *gin.Context) {
	ifVersion, ok := ifVersionQuery(c)
	if !ok {
		return
	}
	if err := s.deps.Manager.DeleteDoc(c, s.actor(c), c.GetString(appKey), c.Param("collection"), c.Param("doc"), ifVersion); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) listDocsIndexes(c *gin.Context) {
	ixs, err := s.deps.Manager.DocsIndexes(c, c.GetString(appKey), c.Param("collection"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"indexes": ixs})
}

// indexRequest asks for an index, as a script's ensureIndex.
type indexRequest struct {
	Paths  []string `json:"paths"`
	Unique bool     `json:"unique"`
}

func (s *server) ensureDocsIndex(c *gin.Context) {
	var req indexRequest
	if !bindJSON(c, &req) {
		return
	}
	name, err := s.deps.Manager.EnsureDocsIndex(c, s.actor(c), c.GetString(appKey), c.Param("collection"), req.Paths, req.Unique)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"name": name})
}

func (s *server) dropDocsIndex(c *gin.Context) {
	if err := s.deps.Manager.DropDocsIndex(c, s.actor(c), c.GetString(appKey), c.Param("collection"), c.Param("index")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
