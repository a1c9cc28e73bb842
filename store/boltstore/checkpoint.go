package boltstore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"goalsearch/store"
)

// A checkpoint is stored as a small binary frame around the trainer's
// bytes, not as JSON: checkpoints are large (weights and optimiser moments)
// and opaque, and base64 would cost a third more on every epoch. bbolt
// checksums only its meta pages, so the frame carries a CRC-32C of the data:
// a damaged checkpoint is reported, never handed to the trainer.
//
//	byte 0       frame version (1)
//	bytes 1-8    epoch, big-endian
//	bytes 9-12   CRC-32C of the data, big-endian
//	bytes 13-    data
const (
	ckptVersion   = 1
	ckptHeaderLen = 13
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeCheckpoint(epoch int, data []byte) []byte {
	b := make([]byte, ckptHeaderLen, ckptHeaderLen+len(data))
	b[0] = ckptVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(epoch))
	binary.BigEndian.PutUint32(b[9:13], crc32.Checksum(data, castagnoli))
	return append(b, data...)
}

// decodeCheckpoint parses a frame; the returned data is a copy, because b
// lives in bbolt's memory map only as long as the transaction.
func decodeCheckpoint(trial int, b []byte) (store.Checkpoint, error) {
	if len(b) <= ckptHeaderLen {
		return store.Checkpoint{}, fmt.Errorf("%w: checkpoint of trial %d: %d bytes", store.ErrCorrupt, trial, len(b))
	}
	if b[0] > ckptVersion {
		return store.Checkpoint{}, fmt.Errorf("%w (checkpoint frame version %d, this build reads up to %d): upgrade goalsearch to read it", store.ErrNewerSchema, b[0], ckptVersion)
	}
	if b[0] != ckptVersion {
		return store.Checkpoint{}, fmt.Errorf("%w: checkpoint of trial %d: frame version %d", store.ErrCorrupt, trial, b[0])
	}
	epoch := binary.BigEndian.Uint64(b[1:9])
	if epoch < 1 || epoch > math.MaxInt {
		return store.Checkpoint{}, fmt.Errorf("%w: checkpoint of trial %d: epoch %d", store.ErrCorrupt, trial, epoch)
	}
	data := b[ckptHeaderLen:]
	if crc32.Checksum(data, castagnoli) != binary.BigEndian.Uint32(b[9:13]) {
		return store.Checkpoint{}, fmt.Errorf("%w: checkpoint of trial %d: checksum mismatch", store.ErrCorrupt, trial)
	}
	return store.Checkpoint{Trial: trial, Epoch: int(epoch), Data: append([]byte(nil), data...)}, nil
}
