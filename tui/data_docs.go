package tui

import (
	stdbytes "bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/picloud/picloud/tui/client"
)

// docsKind is the document collections of an app. The / filter searches
// the documents' JSON text on the board; a document is edited as JSON and
// saved as a replace at the version shown.
type docsKind struct{ c *client.Client }

func (docsKind) noun() string { return "document" }

func (docsKind) label() string { return "docs" }

func (docsKind) columns() []column {
	return []column{{"ID", 36, 0}, {"SIZE", 9, 0}, {"VERSION", 9, 0}, {"DOCUMENT", 0, 0}}
}

func (docsKind) cells(r dataRow) []string {
	return []string{r.id, bytes(r.size), fmt.Sprint(r.version), r.preview}
}

func (d docsKind) collections(ctx context.Context, appID string) ([]dataCollection, error) {
	cs, err := d.c.DocsCollections(ctx, appID)
	out := make([]dataCollection, len(cs))
	for i, c := range cs {
		out[i] = dataCollection{name: c.Name, items: c.Documents, bytes: c.Bytes}
	}
	return out, err
}

// docsPageSize is the documents one page loads.
const docsPageSize = 100

func (d docsKind) page(ctx context.Context, appID, collection, contains, cursor string) (dataPage, error) {
	if strings.Contains(collection, "/") {
		return dataPage{}, errSlashCollection
	}
	p, err := d.c.FindDocs(ctx, appID, collection, client.DocsQuery{Contains: contains, Cursor: cursor, Limit: docsPageSize})
	out := dataPage{cursor: p.Cursor, complete: p.Complete, rows: make([]dataRow, len(p.Documents))}
	for i, doc := range p.Documents {
		out.rows[i] = dataRow{id: doc.ID, typ: "json", size: doc.Size, version: doc.Version, preview: doc.Preview}
	}
	return out, err
}

func (d docsKind) item(ctx context.Context, appID, collection, id string) (dataItem, error) {
	doc, err := d.c.Doc(ctx, appID, collection, id)
	if err != nil {
		return dataItem{}, err
	}
	return dataItem{id: doc.ID, typ: "json", text: prettyJSON(doc.Doc), version: doc.Version,
		details: []string{fmt.Sprintf("document · %d bytes · version %d", doc.Size, doc.Version)}}, nil
}

// docText is the document of an edit: a JSON object, compacted.
func docText(text string) (json.RawMessage, error) {
	var b stdbytes.Buffer
	if err := json.Compact(&b, []byte(text)); err != nil {
		return nil, fmt.Errorf("the document is not valid JSON: %w; nothing was saved", err)
	}
	if b.Len() == 0 || b.Bytes()[0] != '{' {
		return nil, fmt.Errorf("a document must be a JSON object ({…}); nothing was saved")
	}
	return b.Bytes(), nil
}

// save replaces the document, over the version loaded only.
func (d docsKind) save(ctx context.Context, appID, collection string, it dataItem, text string) error {
	doc, err := docText(text)
	if err != nil {
		return err
	}
	_, err = d.c.ReplaceDoc(ctx, appID, collection, it.id, doc, it.version)
	return err
}

func (d docsKind) remove(ctx context.Context, appID, collection string, r dataRow) error {
	return d.c.DeleteDoc(ctx, appID, collection, r.id, r.version)
}
