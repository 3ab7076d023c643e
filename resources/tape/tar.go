package tape

import (
	"archive/tar"
	"io"
	"time"
)

// appendEntry writes one tar entry (header, body, padding to a 512-byte
// block) to w, which is positioned at start in its stream, and returns the
// offset of the body in the stream and the offset after the entry. It writes
// no end-of-archive marker, so that the next entry can follow, as a tape is
// written: a cartridge is a tar stream that `tar -t` reads, whether w is a
// file or a tape device opened for writing.
func appendEntry(w io.Writer, start int64, name string, size int64, mtime time.Time, body io.Reader) (dataOff, end int64, err error) {
	cw := &countingWriter{w: w}
	tw := tar.NewWriter(cw)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o600,
		ModTime:  mtime.Truncate(time.Second),
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return 0, 0, err
	}
	dataOff = start + cw.n
	if _, err := io.CopyN(tw, body, size); err != nil {
		return 0, 0, err
	}
	// Flush pads the body to a block; Close would end the archive.
	if err := tw.Flush(); err != nil {
		return 0, 0, err
	}
	return dataOff, start + cw.n, nil
}

// entrySize bounds the bytes appendEntry writes for a body of size bytes
// named name: header blocks (with a PAX record for a long name) and the
// body padded to a block.
func entrySize(name string, size int64) int64 {
	const block = 512
	n := int64(block) + (size+block-1)/block*block
	// A PAX header: its own header block and the records, padded.
	n += block + (int64(len(name))+200+block-1)/block*block
	return n
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
