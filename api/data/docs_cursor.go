package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/model"
)

// docsCursor is what a find cursor holds: the position after the last
// document of its page, the fingerprint of the query it belongs to, and a
// checksum of both. Scripts see it as opaque text.
type docsCursor struct {
	V    int       `json:"v"`
	Q    string    `json:"q"`
	Keys []*string `json:"k"` // order values as JSON text, nil where missing
	ID   string    `json:"i"`
	Sum  string    `json:"s"`
}

const docsCursorPrefix = "d1."

// fingerprint identifies a query for its cursors: the app, collection,
// conditions and order (and the text searched for, if any); not the page
// size.
func fingerprint(q model.DocsQuery) string {
	parts := []any{q.AppID, q.Collection, q.Where, q.Order}
	if q.Contains != "" {
		parts = append(parts, q.Contains)
	}
	b, _ := json.Marshal(parts)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
}

func (c docsCursor) sum() string {
	c.Sum = ""
	b, _ := json.Marshal(c)
	h := sha256.Sum256(append([]byte("picloud docs cursor\x00"), b...))
	return hex.EncodeToString(h[:12])
}

// encodeDocsCursor is the cursor after d in q's order.
func encodeDocsCursor(q model.DocsQuery, d model.Doc) string {
	c := docsCursor{V: 1, Q: fingerprint(q), ID: d.ID, Keys: make([]*string, len(d.Keys))}
	for i, k := range d.Keys {
		if k != nil {
			s := string(k)
			c.Keys[i] = &s
		}
	}
	c.Sum = c.sum()
	b, _ := json.Marshal(c)
	return docsCursorPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// decodeDocsCursor checks a cursor against q and returns its position.
func decodeDocsCursor(q model.DocsQuery, s string) (*model.DocsPosition, error) {
	bad := invalid("find: the cursor is not one that find returned")
	if !strings.HasPrefix(s, docsCursorPrefix) {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s[len(docsCursorPrefix):])
	if err != nil {
		return nil, bad
	}
	var c docsCursor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if dec.Decode(&c) != nil || c.V != 1 || c.Sum != c.sum() || !isDocID(c.ID) || len(c.Keys) != len(q.Order) {
		return nil, bad
	}
	if c.Q != fingerprint(q) {
		return nil, invalid("find: the cursor belongs to another query (a cursor goes with the collection, where and orderBy of the find that returned it)")
	}
	pos := &model.DocsPosition{ID: c.ID, Keys: make([]json.RawMessage, len(c.Keys))}
	for i, k := range c.Keys {
		if k != nil {
			if !json.Valid([]byte(*k)) {
				return nil, bad
			}
			pos.Keys[i] = json.RawMessage(*k)
		}
	}
	return pos, nil
}

// isDocID says whether s is a document id as insert makes them: a UUID in
// its canonical text form.
func isDocID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}
