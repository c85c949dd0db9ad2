// Package backup writes and reads PiCloud's one-file backups: a board's or
// one app's rows, taken from one consistent snapshot and streamed through
// PostgreSQL's COPY, compressed with zstd and closed by a trailer with row
// counts, a SHA-256 of the content and, with a passphrase, an HMAC. The
// format is described in docs/backup-format.md.
package backup

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Magic opens every backup file, before the compressed content; the
// format's version follows it on the same line.
const Magic = "PICLOUD BACKUP "

// FormatVersion is the newest version of the format this build writes and
// reads.
const FormatVersion = 1

// maxRecord bounds one record's payload: a reader refuses larger ones
// rather than allocate what a damaged length asks for.
const maxRecord = 1 << 20

// chunkSize is how many bytes of COPY output one rows record holds.
const chunkSize = 64 << 10

// Record types of the content, after decompression.
const (
	recHeader  = 'H' // JSON Header, first
	recTable   = 'T' // JSON TableHeader, opens a table
	recRows    = 'R' // COPY text-format bytes of the open table
	recEnd     = 'E' // JSON TableEnd, closes the open table
	recTrailer = 'Z' // JSON Trailer, last
)

// Scope values of a Header.
const (
	ScopeBoard = "board"
	ScopeApp   = "app"
)

// Header opens the content: who wrote it, of what, and how its secrets'
// key travels.
type Header struct {
	Format        int         `json:"format"`
	PiCloud       string      `json:"picloud"`
	SchemaVersion int         `json:"schema_version"`
	CreatedAt     string      `json:"created_at"`
	Scope         string      `json:"scope"`
	App           string      `json:"app,omitempty"`
	AppID         string      `json:"app_id,omitempty"`
	Secrets       KeyEnvelope `json:"secrets"`
}

// Column is one column of a table in the file: its name and its
// PostgreSQL type, as format_type writes it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// TableHeader opens a table's rows.
type TableHeader struct {
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
}

// TableEnd closes a table's rows with their count.
type TableEnd struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// Trailer closes the content: the rows per table, the SHA-256 of every
// record before it, and with a passphrase an HMAC-SHA256 of the same
// bytes, keyed from the passphrase.
type Trailer struct {
	Rows   map[string]int64 `json:"rows"`
	SHA256 string           `json:"sha256"`
	HMAC   string           `json:"hmac,omitempty"`
}

// writeRecord writes one record: its type, its payload's length (4 bytes,
// big-endian) and the payload.
func writeRecord(w io.Writer, typ byte, payload []byte) error {
	var head [5]byte
	head[0] = typ
	binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// writeJSON writes a record whose payload is v in JSON.
func writeJSON(w io.Writer, typ byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeRecord(w, typ, b)
}

// ErrTruncated means the content ends before its trailer.
var ErrTruncated = errors.New("the backup is truncated: it ends before its trailer")

// recordReader reads records, passing every byte it reads to sum (the
// digests of the content) until the trailer.
type recordReader struct {
	r   *bufio.Reader
	sum io.Writer
	buf []byte
}

// next returns the next record; its payload is valid until the next call.
func (rr *recordReader) next() (byte, []byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(rr.r, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, ErrTruncated
		}
		return 0, nil, fmt.Errorf("read the backup: %w", err)
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n > maxRecord {
		return 0, nil, fmt.Errorf("the backup is damaged: a record of %d bytes (at most %d)", n, maxRecord)
	}
	if cap(rr.buf) < int(n) {
		rr.buf = make([]byte, n)
	}
	payload := rr.buf[:n]
	if _, err := io.ReadFull(rr.r, payload); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, ErrTruncated
		}
		return 0, nil, fmt.Errorf("read the backup: %w", err)
	}
	if head[0] != recTrailer {
		rr.sum.Write(head[:])
		rr.sum.Write(payload)
	}
	return head[0], payload, nil
}
