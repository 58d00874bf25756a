// Command verifier checks the ledger of record as an outsider would, with nothing of
// ours: Go's golang.org/x/mod/sumdb/note for the checkpoint's signature and
// golang.org/x/mod/sumdb/tlog for the tree, over the C2SP tlog-tiles the server serves.
//
//	verifier -log https://coop.example/api/v1/ledger -key '<note verifier key>' \
//	    [-previous earlier-checkpoint.txt] [-check 1,17,300]
//
// It verifies the checkpoint's signature and format (c2sp.org/tlog-checkpoint); reads
// every hash tile of its tree and checks each hash of a tile above level 0 against the
// full tile below it, and the root against the checkpoint (older x/mod's TileHashReader
// does not check every tile against its parent, so this checks them all itself); reads
// every entry bundle and checks each entry against its leaf hash; proves and checks the
// inclusion of the events given by -check (sequence numbers, from 1) with ProveRecord and
// CheckRecord; and, given an earlier checkpoint, proves and checks that the tree extends
// it with ProveTree and CheckTree, reading the earlier tree's own (partial) tiles too.
// It prints a JSON summary and exits 0, or prints what failed and exits 1.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8
const width = 1 << height

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

// parseCheckpoint reads a signed note's text per c2sp.org/tlog-checkpoint: origin, decimal
// size, base64 root hash, then optional extension lines (this log writes none).
func parseCheckpoint(text string) (checkpoint, error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return checkpoint{}, errors.New("a checkpoint has an origin, a size and a root hash, each on its line")
	}
	if len(lines) != 4 {
		return checkpoint{}, fmt.Errorf("unexpected extension lines: %q", lines[3:len(lines)-1])
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, fmt.Errorf("bad tree size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return checkpoint{}, fmt.Errorf("bad root hash %q", lines[2])
	}
	var h tlog.Hash
	copy(h[:], root)
	return checkpoint{origin: lines[0], tree: tlog.Tree{N: size, Hash: h}}, nil
}

func openCheckpoint(msg []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	c, err := parseCheckpoint(n.Text)
	if err != nil {
		return checkpoint{}, err
	}
	if c.origin != verifier.Name() {
		return checkpoint{}, fmt.Errorf("checkpoint origin %q is not the key's name %q", c.origin, verifier.Name())
	}
	return c, nil
}

type server struct {
	base    string
	fetched int
}

func (s *server) get(path string) ([]byte, error) {
	resp, err := http.Get(s.base + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	s.fetched++
	return body, nil
}

// tilePath is a tile's C2SP path: tile/<L>/<N>[.p/<W>], without x/mod's height element.
func tilePath(level string, n int64, w int) string {
	parts := []string{fmt.Sprintf("%03d", n%1000)}
	for n >= 1000 {
		n /= 1000
		parts = append([]string{fmt.Sprintf("x%03d", n%1000)}, parts...)
	}
	p := "tile/" + level + "/" + strings.Join(parts, "/")
	if w != width {
		p += fmt.Sprintf(".p/%d", w)
	}
	return p
}

// Height and ReadTiles make the server a tlog.TileReader.
func (s *server) Height() int { return height }

func (s *server) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		if t.H != height {
			return nil, fmt.Errorf("tile of height %d asked for", t.H)
		}
		d, err := s.get(tilePath(strconv.Itoa(t.L), t.N, t.W))
		if err != nil {
			return nil, err
		}
		if len(d) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("tile %v: %d bytes", t, len(d))
		}
		data[i] = d
	}
	return data, nil
}

func (s *server) SaveTiles([]tlog.Tile, [][]byte) {}

func hashes(data []byte) []tlog.Hash {
	out := make([]tlog.Hash, len(data)/tlog.HashSize)
	for i := range out {
		copy(out[i][:], data[i*tlog.HashSize:])
	}
	return out
}

// root is the RFC 6962 Merkle tree hash over consecutive hashes.
func root(hs []tlog.Hash) tlog.Hash {
	if len(hs) == 1 {
		return hs[0]
	}
	k := 1
	for k*2 < len(hs) {
		k *= 2
	}
	return tlog.NodeHash(root(hs[:k]), root(hs[k:]))
}

// checkAllTiles reads every hash tile of the tree and checks each against the tiles below
// it and the whole against the root; it returns the leaf hashes.
func checkAllTiles(s *server, tree tlog.Tree) ([]tlog.Hash, int, error) {
	var below []tlog.Hash // the previous level's hashes, in order
	var leaves []tlog.Hash
	count := 0
	for level := 0; tree.N>>(uint(height*level)) > 0; level++ {
		n := tree.N >> uint(height*level)
		var here []tlog.Hash
		for i := int64(0); i*width < n; i++ {
			w := int(n - i*width)
			if w > width {
				w = width
			}
			data, err := s.get(tilePath(strconv.Itoa(level), i, w))
			if err != nil {
				return nil, count, err
			}
			if len(data) != w*tlog.HashSize {
				return nil, count, fmt.Errorf("level %d tile %d: %d bytes for width %d", level, i, len(data), w)
			}
			count++
			here = append(here, hashes(data)...)
		}
		if level == 0 {
			leaves = here
		} else {
			for j, h := range here {
				if want := root(below[j*width : (j+1)*width]); h != want {
					return nil, count, fmt.Errorf("level %d hash %d is not the root of its full tile below", level, j)
				}
			}
		}
		below = here
	}
	if tree.N == 0 {
		return leaves, count, nil
	}
	if got := root(leaves); got != tree.Hash {
		return nil, count, fmt.Errorf("the leaf hashes of the tiles give root %v, the checkpoint says %v", got, tree.Hash)
	}
	return leaves, count, nil
}

// readEntries reads every entry bundle of the tree and checks each entry's record hash.
func readEntries(s *server, tree tlog.Tree, leaves []tlog.Hash) ([][]byte, error) {
	var entries [][]byte
	for i := int64(0); i*width < tree.N; i++ {
		w := int(tree.N - i*width)
		if w > width {
			w = width
		}
		data, err := s.get(tilePath("entries", i, w))
		if err != nil {
			return nil, err
		}
		for at := 0; at < len(data); {
			if at+2 > len(data) {
				return nil, fmt.Errorf("entry bundle %d ends inside a length", i)
			}
			n := int(binary.BigEndian.Uint16(data[at:]))
			if at+2+n > len(data) {
				return nil, fmt.Errorf("entry bundle %d ends inside an entry", i)
			}
			entries = append(entries, data[at+2:at+2+n])
			at += 2 + n
		}
		if int64(len(entries)) != i*width+int64(w) {
			return nil, fmt.Errorf("entry bundle %d holds %d entries, not %d", i, len(entries)-int(i*width), w)
		}
	}
	for i, e := range entries {
		if tlog.RecordHash(e) != leaves[i] {
			return nil, fmt.Errorf("entry %d does not hash to its leaf", i)
		}
		var ev struct {
			Seq int64 `json:"seq"`
		}
		if err := json.Unmarshal(e, &ev); err != nil || ev.Seq != int64(i)+1 {
			return nil, fmt.Errorf("entry %d is not the event with sequence number %d", i, i+1)
		}
	}
	return entries, nil
}

func run() (map[string]any, error) {
	base := flag.String("log", "", "the log's URL prefix, e.g. http://127.0.0.1:8000/api/v1/ledger")
	vkey := flag.String("key", "", "the note verifier key (note_verifier_key of /public-key)")
	previous := flag.String("previous", "", "an earlier checkpoint (file) the log must extend")
	check := flag.String("check", "", "sequence numbers of events to prove included, comma-separated")
	flag.Parse()
	if *base == "" || *vkey == "" {
		return nil, errors.New("-log and -key are required")
	}
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	s := &server{base: strings.TrimRight(*base, "/")}
	msg, err := s.get("checkpoint")
	if err != nil {
		return nil, err
	}
	cp, err := openCheckpoint(msg, verifier)
	if err != nil {
		return nil, err
	}
	tree := cp.tree
	summary := map[string]any{"origin": cp.origin, "tree_size": tree.N}

	leaves, tileCount, err := checkAllTiles(s, tree)
	if err != nil {
		return nil, err
	}
	summary["tiles"] = tileCount
	entries, err := readEntries(s, tree, leaves)
	if err != nil {
		return nil, err
	}
	summary["entries"] = len(entries)

	reader := tlog.TileHashReader(tree, s)
	if tree.N > 0 {
		th, err := tlog.TreeHash(tree.N, reader)
		if err != nil {
			return nil, fmt.Errorf("tree hash from tiles: %w", err)
		}
		if th != tree.Hash {
			return nil, errors.New("TreeHash over the tiles is not the checkpoint's root")
		}
	}

	included := []int64{}
	for _, field := range strings.Split(*check, ",") {
		if field == "" {
			continue
		}
		seq, err := strconv.ParseInt(field, 10, 64)
		if err != nil || seq < 1 || seq > tree.N {
			return nil, fmt.Errorf("-check: %q is not an event of the tree", field)
		}
		proof, err := tlog.ProveRecord(tree.N, seq-1, reader)
		if err != nil {
			return nil, fmt.Errorf("inclusion proof of event %d: %w", seq, err)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, seq-1, tlog.RecordHash(entries[seq-1])); err != nil {
			return nil, fmt.Errorf("event %d: %w", seq, err)
		}
		included = append(included, seq)
	}
	summary["included"] = included

	if *previous != "" {
		msg, err := os.ReadFile(*previous)
		if err != nil {
			return nil, err
		}
		old, err := openCheckpoint(msg, verifier)
		if err != nil {
			return nil, fmt.Errorf("earlier checkpoint: %w", err)
		}
		if old.tree.N > tree.N {
			return nil, fmt.Errorf("the log has %d events, fewer than the earlier checkpoint's %d", tree.N, old.tree.N)
		}
		proof, err := tlog.ProveTree(tree.N, old.tree.N, reader)
		if err != nil {
			return nil, fmt.Errorf("consistency proof: %w", err)
		}
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, old.tree.N, old.tree.Hash); err != nil {
			return nil, fmt.Errorf("the log does not extend the earlier checkpoint: %w", err)
		}
		// The earlier tree from its own tiles, partial ones included.
		if _, _, err := checkAllTiles(s, old.tree); err != nil {
			return nil, fmt.Errorf("earlier checkpoint's tiles: %w", err)
		}
		if old.tree.N > 0 {
			oldHash, err := tlog.TreeHash(old.tree.N, tlog.TileHashReader(old.tree, s))
			if err != nil || oldHash != old.tree.Hash {
				return nil, fmt.Errorf("the earlier checkpoint's tiles do not give its root (%v)", err)
			}
		}
		summary["consistent_with"] = old.tree.N
	}
	summary["fetched"] = s.fetched
	return summary, nil
}

func main() {
	summary, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(summary)
	fmt.Println(string(bytes.TrimSpace(out)))
}
