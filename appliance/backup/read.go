package backup

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// ErrNeedPassphrase means the backup's secrets key is wrapped with a
// passphrase, and none was given: without it neither the secrets nor the
// file's authenticity can be checked.
var ErrNeedPassphrase = errors.New("this backup is protected by a passphrase: give it on standard input with --passphrase-stdin")

// Contents is what reading a whole backup found.
type Contents struct {
	Header Header
	// Tables are the tables in the file, in its order, with their columns.
	Tables []TableHeader
	Rows   map[string]int64
	// SecretsKey is the backup's secrets key, unwrapped with the
	// passphrase; nil when the backup's secrets are not restorable.
	SecretsKey []byte
	// Authenticated says an HMAC keyed by the passphrase checked the
	// file, not only a checksum.
	Authenticated bool
}

// tableFunc receives each table's header and a reader of its rows (COPY
// text); what it leaves unread is read and checked after it returns.
type tableFunc func(TableHeader, io.Reader) error

// digests are the sums of the content: SHA-256, and HMAC once the header
// said how to key it.
type digests struct {
	sha, mac hash.Hash
}

func (d *digests) Write(p []byte) (int, error) {
	d.sha.Write(p)
	if d.mac != nil {
		d.mac.Write(p)
	}
	return len(p), nil
}

// read reads a whole backup from r and checks it: magic, format and schema
// versions, structure, row counts, checksum and, with a passphrase, the
// HMAC. Each table's rows go to each (nil: only checked). The file is
// known good only when read returns without an error; whatever each did
// before must be undone otherwise.
func read(r io.Reader, passphrase []byte, schemaVersion int, each tableFunc) (*Contents, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if err := readMagic(br); err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(8<<20))
	if err != nil {
		return nil, fmt.Errorf("read the backup: %w", err)
	}
	defer dec.Close()
	d := &digests{sha: sha256.New()}
	rr := &recordReader{r: bufio.NewReaderSize(dec, 64<<10), sum: d}
	c, err := readHeader(rr, d, passphrase, schemaVersion)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		typ, payload, err := rr.next()
		if err != nil {
			return nil, damaged(err)
		}
		switch typ {
		case recTable:
			var th TableHeader
			if err := json.Unmarshal(payload, &th); err != nil {
				return nil, fmt.Errorf("the backup is damaged: a table's header: %w", err)
			}
			if err := checkTable(th, seen); err != nil {
				return nil, err
			}
			rows := &rowsReader{rr: rr, name: th.Name}
			if each != nil {
				if err := each(th, rows); err != nil {
					return nil, err
				}
			}
			if _, err := io.Copy(io.Discard, rows); err != nil {
				return nil, err
			}
			if rows.end.Rows != rows.rows {
				return nil, fmt.Errorf("the backup is damaged: table %s says %d rows and holds %d", th.Name, rows.end.Rows, rows.rows)
			}
			c.Tables = append(c.Tables, th)
			c.Rows[th.Name] = rows.rows
		case recTrailer:
			if err := checkTrailer(payload, c, d); err != nil {
				return nil, err
			}
			if n, _ := io.CopyN(io.Discard, rr.r, 1); n != 0 {
				return nil, errors.New("the backup is damaged: data after its trailer")
			}
			return c, nil
		default:
			return nil, fmt.Errorf("the backup is damaged: a record of type %q where a table or the trailer should be", typ)
		}
	}
}

// damaged wraps what decompression and framing found.
func damaged(err error) error {
	if errors.Is(err, ErrTruncated) {
		return err
	}
	return fmt.Errorf("the backup is damaged: %w", err)
}

// readMagic checks the first line: the magic and a format version this
// build reads.
func readMagic(br *bufio.Reader) error {
	raw, err := br.ReadSlice('\n') // at most the reader's buffer, whatever the file holds
	line := string(raw)
	if err != nil || !strings.HasPrefix(line, Magic) {
		return errors.New("not a PiCloud backup (it does not start with " + strconv.Quote(Magic) + ")")
	}
	v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, Magic), "\n"))
	if err != nil || v < 1 {
		return fmt.Errorf("not a PiCloud backup: bad format version %q", strings.TrimSpace(line))
	}
	if v > FormatVersion {
		return fmt.Errorf("the backup is in format %d, newer than this build reads (%d): restore it with a newer PiCloud", v, FormatVersion)
	}
	return nil
}

// readHeader reads the first record and, with a passphrase, unwraps the
// secrets key and starts the HMAC over the content from its beginning.
func readHeader(rr *recordReader, d *digests, passphrase []byte, schemaVersion int) (*Contents, error) {
	typ, payload, err := rr.next()
	if err != nil {
		return nil, damaged(err)
	}
	c := &Contents{Rows: map[string]int64{}}
	if typ != recHeader || json.Unmarshal(payload, &c.Header) != nil {
		return nil, errors.New("the backup is damaged: it does not start with its header")
	}
	h := c.Header
	switch {
	case h.Format != FormatVersion:
		return nil, fmt.Errorf("the backup is damaged: its header says format %d", h.Format)
	case h.SchemaVersion > schemaVersion:
		return nil, fmt.Errorf("the backup was made by PiCloud %s with schema version %d, newer than this build's (%d): restore it with that version or a newer one", h.PiCloud, h.SchemaVersion, schemaVersion)
	case h.Scope != ScopeBoard && h.Scope != ScopeApp:
		return nil, fmt.Errorf("the backup is damaged: unknown scope %q", h.Scope)
	}
	if !h.Secrets.Restorable {
		return c, nil
	}
	if len(passphrase) == 0 {
		return nil, ErrNeedPassphrase
	}
	var macKey []byte
	if c.SecretsKey, macKey, err = open(passphrase, h.Secrets); err != nil {
		return nil, err
	}
	d.mac = newMAC(macKey)
	var head [5]byte
	head[0] = typ
	binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
	d.mac.Write(head[:])
	d.mac.Write(payload)
	c.Authenticated = true
	return c, nil
}

// checkTable refuses a table this build does not back up, or one seen
// twice.
func checkTable(th TableHeader, seen map[string]bool) error {
	if _, ok := table(th.Name); !ok {
		return fmt.Errorf("the backup holds table %q, which this build does not know", th.Name)
	}
	if seen[th.Name] {
		return fmt.Errorf("the backup is damaged: table %s twice", th.Name)
	}
	if len(th.Columns) == 0 {
		return fmt.Errorf("the backup is damaged: table %s without columns", th.Name)
	}
	seen[th.Name] = true
	return nil
}

// checkTrailer compares the trailer with what was read.
func checkTrailer(payload []byte, c *Contents, d *digests) error {
	var tr Trailer
	if err := json.Unmarshal(payload, &tr); err != nil {
		return fmt.Errorf("the backup is damaged: its trailer: %w", err)
	}
	if c.Authenticated {
		want, err := hex.DecodeString(tr.HMAC)
		if err != nil || !hmac.Equal(want, d.mac.Sum(nil)) {
			return errors.New("the backup was changed after it was written: its HMAC does not match (refused)")
		}
	}
	if want, err := hex.DecodeString(tr.SHA256); err != nil || !bytes.Equal(want, d.sha.Sum(nil)) {
		return errors.New("the backup is damaged: its SHA-256 does not match")
	}
	if !maps.Equal(tr.Rows, c.Rows) {
		return fmt.Errorf("the backup is damaged: its trailer counts rows %v, the file holds %v", tr.Rows, c.Rows)
	}
	return nil
}

// rowsReader reads the rows records of one table, up to its end record.
type rowsReader struct {
	rr   *recordReader
	name string
	cur  []byte
	rows int64
	end  TableEnd
	done bool
}

func (r *rowsReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.done {
			return 0, io.EOF
		}
		typ, payload, err := r.rr.next()
		if err != nil {
			return 0, damaged(err)
		}
		switch typ {
		case recRows:
			r.cur = payload
			r.rows += int64(bytes.Count(payload, []byte{'\n'}))
		case recEnd:
			if err := json.Unmarshal(payload, &r.end); err != nil || r.end.Name != r.name {
				return 0, fmt.Errorf("the backup is damaged: table %s does not end as it should", r.name)
			}
			r.done = true
		default:
			return 0, fmt.Errorf("the backup is damaged: a record of type %q in table %s", typ, r.name)
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
