package engine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Source maps count columns from 0, but goja looks them up with 1-based
// columns and reports the mapped column as is. shiftSourceMap adds one to
// every generated and every original column so that goja's lookups land on
// the right segment and report 1-based columns. In the mappings string
// generated columns restart at each line and original columns are deltas
// across the whole file, so only the first segment of each line (generated)
// and the first segment with a source (original) need to change.
func shiftSourceMap(raw []byte, rename map[string]string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var sources []string
	if err := json.Unmarshal(m["sources"], &sources); err != nil {
		return nil, err
	}
	for i, s := range sources {
		if n, ok := rename[s]; ok {
			sources[i] = n
		}
	}
	enc, err := json.Marshal(sources)
	if err != nil {
		return nil, err
	}
	m["sources"] = enc
	var mappings string
	if err := json.Unmarshal(m["mappings"], &mappings); err != nil {
		return nil, err
	}
	lines := strings.Split(mappings, ";")
	firstSource := true
	for i, line := range lines {
		if line == "" {
			continue
		}
		seg, rest, more := strings.Cut(line, ",")
		f, err := decodeVLQs(seg)
		if err != nil {
			return nil, err
		}
		f[0]++
		if len(f) >= 4 && firstSource {
			f[3]++
			firstSource = false
		}
		var b strings.Builder
		for _, v := range f {
			encodeVLQ(&b, v)
		}
		if more {
			b.WriteByte(',')
			b.WriteString(rest)
		}
		lines[i] = b.String()
	}
	enc, err = json.Marshal(strings.Join(lines, ";"))
	if err != nil {
		return nil, err
	}
	m["mappings"] = enc
	return json.Marshal(m)
}

// inlineSourceMap returns the decoded inline source map of transpiled code.
func inlineSourceMap(code string) []byte {
	i := strings.LastIndex(code, sourceMapPrefix)
	if i < 0 {
		return nil
	}
	enc := strings.TrimSpace(code[i+len(sourceMapPrefix):])
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil
	}
	return raw
}

// lookupSourceMap maps a 1-based generated position to a 1-based original
// one, using a map shifted by shiftSourceMap: the segment starting at or
// before the column on that line wins.
func lookupSourceMap(raw []byte, line, col int) (int, int, bool) {
	var m struct {
		Mappings string `json:"mappings"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return 0, 0, false
	}
	var srcLine, srcCol int
	found := false
	var bestLine, bestCol int
	for i, l := range strings.Split(m.Mappings, ";") {
		genCol := 0
		for _, seg := range strings.Split(l, ",") {
			if seg == "" {
				continue
			}
			f, err := decodeVLQs(seg)
			if err != nil {
				return 0, 0, false
			}
			genCol += f[0]
			if len(f) >= 4 {
				srcLine += f[2]
				srcCol += f[3]
				if i+1 == line && genCol <= col {
					bestLine, bestCol, found = srcLine+1, srcCol, true
				}
			}
		}
		if i+1 >= line {
			break
		}
	}
	return bestLine, bestCol, found
}

const vlqChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// decodeVLQs decodes one source-map segment.
func decodeVLQs(s string) ([]int, error) {
	var out []int
	shift, v := 0, 0
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(vlqChars, s[i])
		if d < 0 {
			return nil, errors.New("bad VLQ digit")
		}
		v += (d & 31) << shift
		if d&32 != 0 {
			shift += 5
			continue
		}
		if v&1 != 0 {
			out = append(out, -(v >> 1))
		} else {
			out = append(out, v>>1)
		}
		shift, v = 0, 0
	}
	if shift != 0 || len(out) == 0 {
		return nil, errors.New("truncated VLQ")
	}
	return out, nil
}

// encodeVLQ appends one VLQ-encoded value.
func encodeVLQ(b *strings.Builder, v int) {
	u := v << 1
	if v < 0 {
		u = (-v << 1) | 1
	}
	for {
		d := u & 31
		u >>= 5
		if u > 0 {
			d |= 32
		}
		b.WriteByte(vlqChars[d])
		if u == 0 {
			return
		}
	}
}
