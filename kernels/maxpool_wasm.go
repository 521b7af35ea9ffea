//go:build goexperiment.simd

package kernels

// useWasmPoolAsm is whether MaxPool32 and SelectAndScatterMax32 run the assembly of
// maxpool_wasm.s where the channels are a multiple of 16: always in wasm, but for the benchmark
// that compares it with the Go loops. Go 1.27.3 compiles those loops as it does every loop (see
// tile4): each tap goes back through the function's resumption dispatch, and maxGo's 7
// operations spill to linear memory. The assembly also reads each window's taps from a table made
// once per call, where the Go loops work them out again for every window of every image.
var useWasmPoolAsm = true

// poolAsm says whether the assembly takes p: channels a positive multiple of 16 (4 vectors), and
// images, pixels and windows to address (the Go loops take the rest, which holds no address).
func poolAsm(p Pool) bool {
	return useWasmPoolAsm && p.Channels > 0 && p.Channels%16 == 0 && p.Batch > 0 && p.Height*p.Width > 0 && p.OutH*p.OutW > 0
}

// tapTable returns, for the assembly, the in-image taps of every window of p in row-major window
// order (Pool.taps), as byte offsets from an image's first element: window q = oy*OutW+ox has
// taps[start[q]:start[q+1]]. taps has one element at least, for its address.
func (p *Pool) tapTable() (taps, start []int32) {
	at := make([]int, 0, p.WindowH*p.WindowW)
	start = make([]int32, 0, p.OutH*p.OutW+1)
	taps = make([]int32, 0, p.OutH*p.OutW*p.WindowH*p.WindowW+1)
	for oy := range p.OutH {
		for ox := range p.OutW {
			start = append(start, int32(len(taps)))
			for _, t := range p.taps(at, oy, ox) {
				taps = append(taps, int32(4*t*p.Channels))
			}
		}
	}
	start = append(start, int32(len(taps)))
	if len(taps) == 0 {
		taps = append(taps, 0)
	}
	return taps, start
}

// maxPoolWasm is MaxPool32 in assembly, image by image (poolAsm(p) holds).
func maxPoolWasm(dst, src []float32, p Pool) {
	taps, start := p.tapTable()
	windows := p.OutH * p.OutW
	size, outSize := p.Height*p.Width*p.Channels, windows*p.Channels
	_, _ = src[p.Batch*size-1], dst[p.Batch*outSize-1] // every address the assembly touches
	for b := range p.Batch {
		maxPoolAsm(&dst[b*outSize], &src[b*size], &taps[0], &start[0], windows, p.Channels)
	}
}

// selectAndScatterMaxWasm is SelectAndScatterMax32 in assembly, image by image (poolAsm(p)
// holds).
func selectAndScatterMaxWasm(dst, src, grad []float32, p Pool) {
	taps, start := p.tapTable()
	windows := p.OutH * p.OutW
	size, gradSize := p.Height*p.Width*p.Channels, windows*p.Channels
	_, _, _ = src[p.Batch*size-1], dst[p.Batch*size-1], grad[p.Batch*gradSize-1]
	clear(dst[:p.Batch*size])
	for b := range p.Batch {
		scatterMaxAsm(&dst[b*size], &src[b*size], &grad[b*gradSize], &taps[0], &start[0], windows, p.Channels)
	}
}

// maxPoolAsm (maxpool_wasm.s) sets, for each of windows windows q, out[q*c+i] for i < c (a
// multiple of 16) to Go's max folded from -Inf over image[taps[t]/4+i], t in
// [start[q], start[q+1]).
//
//go:noescape
func maxPoolAsm(out, image *float32, taps, start *int32, windows, c int)

// scatterMaxAsm (maxpool_wasm.s) adds, for each of windows windows q and channel i < c (a
// multiple of 16), grad[q*c+i] to dst[taps[t]/4+i] for the first t in [start[q], start[q+1]]
// where image[taps[t]/4+i] is greatest (a NaN taking over), windows and taps in order.
//
//go:noescape
func scatterMaxAsm(dst, image, grad *float32, taps, start *int32, windows, c int)
