package engine

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"
)

// A textDecoding is the decoder of one encoding of the Encoding standard
// (https://encoding.spec.whatwg.org/), carrying its state between the
// calls of decode(..., {stream: true}).
type textDecoding interface {
	// decode decodes data after what the last call kept; with flush it
	// also ends the stream. ok is false if an error was met and fatal.
	decode(data []byte, flush, fatal bool) (out string, ok bool)
}

// encodingByLabel is the Encoding standard's "get an encoding": the name
// of the encoding a label stands for (in lower case), and false for no
// label and for the labels of the "replacement" encoding, which
// TextDecoder refuses.
func encodingByLabel(label string) (string, encoding.Encoding, bool) {
	label = strings.ToLower(strings.Trim(label, asciiWhitespace))
	// htmlindex trims Unicode white space too; a label is only ever
	// letters, digits and "-_.:".
	for _, c := range label {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return "", nil, false
		}
	}
	if utf8Labels[label] {
		return "utf-8", nil, true
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return "", nil, false
	}
	name, err := htmlindex.Name(enc)
	if err != nil || name == "replacement" {
		return "", nil, false
	}
	return name, enc, true
}

// newTextDecoding makes the decoder of an encoding named by
// encodingByLabel.
func newTextDecoding(name string, enc encoding.Encoding) textDecoding {
	switch name {
	case "utf-8":
		return &utf8Decoding{}
	case "utf-16le":
		return &utf16Decoding{}
	case "utf-16be":
		return &utf16Decoding{bigEndian: true}
	}
	if cm, ok := enc.(*charmap.Charmap); ok {
		d := &singleByteDecoding{}
		for b := range d.table {
			d.table[b] = cm.DecodeByte(byte(b))
		}
		if name == "windows-1252" {
			// The standard's index-windows-1252 maps the five bytes
			// Microsoft's table leaves unassigned to the C1 controls.
			for _, b := range []byte{0x81, 0x8D, 0x8F, 0x90, 0x9D} {
				d.table[b] = rune(b)
			}
		}
		return d
	}
	return &legacyDecoding{tr: enc.NewDecoder(), gb18030: name == "gb18030"}
}

// singleByteDecoding is a single-byte encoding: a byte is one code
// point, U+FFFD where the encoding assigns none.
type singleByteDecoding struct {
	table [256]rune
}

func (d *singleByteDecoding) decode(data []byte, _, fatal bool) (string, bool) {
	var out strings.Builder
	out.Grow(len(data))
	for _, b := range data {
		r := d.table[b]
		if r == utf8.RuneError && fatal {
			return "", false
		}
		out.WriteRune(r)
	}
	return out.String(), true
}

// utf8Decoding is UTF-8 with one U+FFFD for each maximal ill-formed
// subsequence.
type utf8Decoding struct {
	pending []byte // an incomplete sequence at the end of the last chunk
}

func (d *utf8Decoding) decode(data []byte, flush, fatal bool) (string, bool) {
	if len(d.pending) > 0 {
		data = append(d.pending, data...)
		d.pending = nil
	}
	if !flush {
		// Keep an incomplete trailing sequence for the next call.
		for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax; i-- {
			if utf8.RuneStart(data[i]) {
				if !utf8.FullRune(data[i:]) && invalidUTF8Prefix(data[i:]) == len(data)-i {
					d.pending = append([]byte(nil), data[i:]...)
					data = data[:i]
				}
				break
			}
		}
	}
	if utf8.Valid(data) {
		return string(data), true
	}
	if fatal {
		return "", false
	}
	return decodeUTF8(data), true
}

// utf16Decoding is UTF-16LE or UTF-16BE: each lone surrogate, and an odd
// byte at the end, becomes U+FFFD.
type utf16Decoding struct {
	bigEndian bool
	leadByte  int  // -1 or 0: no pending byte; else byte+1
	lead      rune // a lead surrogate waiting for its trail, or 0
}

func (d *utf16Decoding) decode(data []byte, flush, fatal bool) (string, bool) {
	var out strings.Builder
	out.Grow(len(data))
	bad := false
	unit := func(cu rune) {
		if d.lead != 0 {
			lead := d.lead
			d.lead = 0
			if cu >= 0xDC00 && cu <= 0xDFFF {
				out.WriteRune(0x10000 + (lead-0xD800)<<10 + (cu - 0xDC00))
				return
			}
			bad = true
			out.WriteRune(utf8.RuneError)
		}
		switch {
		case cu >= 0xD800 && cu <= 0xDBFF:
			d.lead = cu
		case cu >= 0xDC00 && cu <= 0xDFFF:
			bad = true
			out.WriteRune(utf8.RuneError)
		default:
			out.WriteRune(cu)
		}
	}
	for _, b := range data {
		if d.leadByte == 0 {
			d.leadByte = int(b) + 1
			continue
		}
		first, second := rune(d.leadByte-1), rune(b)
		d.leadByte = 0
		if d.bigEndian {
			unit(first<<8 | second)
		} else {
			unit(second<<8 | first)
		}
	}
	if flush && (d.leadByte != 0 || d.lead != 0) {
		d.leadByte, d.lead = 0, 0
		bad = true
		out.WriteRune(utf8.RuneError)
	}
	if bad && fatal {
		d.leadByte, d.lead = 0, 0
		return "", false
	}
	return out.String(), true
}

// legacyDecoding is any other encoding, decoded by golang.org/x/text,
// which writes U+FFFD for each error.
type legacyDecoding struct {
	tr      transform.Transformer
	gb18030 bool
	pending []byte
}

// gb18030FFFD is U+FFFD itself in gb18030, the one encoding besides the
// UTF ones that can spell it.
var gb18030FFFD = []byte{0x84, 0x31, 0xA4, 0x37}

func (d *legacyDecoding) decode(data []byte, flush, fatal bool) (string, bool) {
	src := append(d.pending, data...)
	d.pending = nil
	out := make([]byte, 0, 2*len(src)+8)
	dst := make([]byte, 4*len(src)+64)
	for {
		nDst, nSrc, err := d.tr.Transform(dst, src, flush)
		out = append(out, dst[:nDst]...)
		src = src[nSrc:]
		if err == transform.ErrShortDst && (nDst > 0 || nSrc > 0) {
			continue
		}
		break
	}
	if flush {
		d.tr.Reset()
	} else if len(src) > 0 {
		d.pending = append([]byte(nil), src...)
	}
	if fatal {
		errors := bytes.Count(out, []byte("\uFFFD"))
		if d.gb18030 {
			errors -= bytes.Count(data, gb18030FFFD)
		}
		if errors > 0 {
			d.tr.Reset()
			d.pending = nil
			return "", false
		}
	}
	return string(out), true
}
