package boltstore

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's file format (version 2): each page starts with a 16-byte header
// (id uint64, flags uint16, count uint16, overflow uint32); pages 0 and 1
// hold a meta record after it.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16
	metaSize         = 64 // magic to checksum
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	freelistPageFlag = 0x10
	noFreelist       = ^uint64(0)
)

type boltMeta struct {
	pageSize                   uint32
	root, freelist, pgid, txid uint64
}

// preflight checks what bbolt trusts without checking when it opens an
// existing file, and panics on (and, for a read-write open, then keeps the
// file locked and mapped, which no recover can undo): that the file holds
// every page its meta page counts, and that the meta page's freelist and
// root pages are of their kinds. A file whose meta pages are both invalid
// is left to bbolt, which refuses it with an error. An empty or missing
// file passes: bbolt creates it.
func preflight(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // bbolt creates it, or reports why not
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil
	}
	m, ok := readMeta(f, 0, 0)
	if m1, ok1 := readMeta(f, 1, m.pageSize); ok1 && (!ok || m1.txid > m.txid) {
		m, ok = m1, true
	}
	if !ok {
		return nil
	}
	ps := uint64(m.pageSize)
	if need := m.pgid * ps; m.pgid > 0 && (need/ps != m.pgid || uint64(fi.Size()) < need) {
		return damaged(path, fmt.Sprintf("truncated: %d bytes of the %d its pages need", fi.Size(), need))
	}
	check := func(what string, id uint64, flags ...uint16) error {
		if id < 2 || id >= m.pgid {
			return damaged(path, fmt.Sprintf("the %s page %d is outside pages 2 to %d", what, id, m.pgid-1))
		}
		hdr := make([]byte, pageHeaderSize)
		if _, err := f.ReadAt(hdr, int64(id*ps)); err != nil {
			return damaged(path, fmt.Sprintf("reading the %s page %d: %v", what, id, err))
		}
		got := binary.LittleEndian.Uint16(hdr[8:])
		overflow := uint64(binary.LittleEndian.Uint32(hdr[12:]))
		if binary.LittleEndian.Uint64(hdr) != id || id+overflow >= m.pgid {
			return damaged(path, fmt.Sprintf("the %s page %d has a damaged header", what, id))
		}
		for _, want := range flags {
			if got == want {
				return nil
			}
		}
		return damaged(path, fmt.Sprintf("the %s page %d has page type %#x", what, id, got))
	}
	if m.freelist != noFreelist {
		if err := check("freelist", m.freelist, freelistPageFlag); err != nil {
			return err
		}
	}
	return check("root", m.root, branchPageFlag, leafPageFlag)
}

// readMeta reads meta page i, whose offset is i*pageSize (for page 0, and
// for page 1 when page 0 gave no size, the OS page size bbolt defaults to).
func readMeta(r io.ReaderAt, i int, pageSize uint32) (boltMeta, bool) {
	if pageSize == 0 {
		pageSize = uint32(os.Getpagesize())
	}
	b := make([]byte, pageHeaderSize+metaSize)
	if _, err := r.ReadAt(b, int64(i)*int64(pageSize)); err != nil {
		return boltMeta{}, false
	}
	b = b[pageHeaderSize:]
	le := binary.LittleEndian
	h := fnv.New64a()
	h.Write(b[:56])
	if le.Uint32(b) != boltMagic || le.Uint32(b[4:]) != boltVersion || h.Sum64() != le.Uint64(b[56:]) {
		return boltMeta{}, false
	}
	m := boltMeta{pageSize: le.Uint32(b[8:]), root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]), pgid: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}
	return m, m.pageSize >= 512 && m.pageSize&(m.pageSize-1) == 0
}
