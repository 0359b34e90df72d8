package bench

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// Chart colours, one per system.
var svgColours = map[System]string{Fwd: "#1f77b4", Floor: "#9e9e9e", Kernel: "#d62728"}

// WriteSVG draws the results as a grouped bar chart: one group per
// scenario, one bar per system (delivered Mpps), fwd/kernel under each
// group. It is a plain SVG file without scripts or external resources.
func (r *Report) WriteSVG(w io.Writer) error {
	const (
		barW, barGap, groupGap  = 14.0, 2.0, 18.0
		left, right, top, plotH = 150.0, 24.0, 70.0, 320.0
		labelH                  = 190.0
	)
	systems := r.Systems
	if len(systems) == 0 {
		systems = Systems
	}
	groupW := float64(len(systems))*(barW+barGap) - barGap + groupGap
	n := max(len(r.Results), 1)
	width := left + right + float64(n)*groupW
	height := top + plotH + labelH
	maxV := 0.0
	for _, res := range r.Results {
		for _, s := range systems {
			if m := res.Measurement(s); m != nil {
				maxV = max(maxV, m.Mpps)
			}
		}
	}
	step := niceStep(maxV / 5)
	yMax := step * math.Ceil(maxV/step)
	if yMax <= 0 {
		yMax, step = 1, 0.2
	}
	y := func(v float64) float64 { return top + plotH - v/yMax*plotH }

	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	title := "fwd bench xdp: delivered Mpps per scenario"
	p(`<text x="%.0f" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, esc(title))
	sub := fmt.Sprintf("kernel %s, %d CPUs, generator on CPU %d, %s", r.Machine.Kernel, r.Machine.CPUs, r.CPU,
		r.Started.Format("2006-01-02"))
	p(`<text x="%.0f" y="40" fill="#555">%s</text>`+"\n", left, esc(sub))
	// Legend.
	lx := left
	for _, s := range systems {
		p(`<rect x="%.1f" y="50" width="12" height="12" fill="%s"/>`, lx, svgColours[s])
		p(`<text x="%.1f" y="60">%s</text>`+"\n", lx+16, esc(systemLabel(s)))
		lx += 16 + 7*float64(len(systemLabel(s))) + 24
	}
	// Axis and grid.
	for v := 0.0; v <= yMax+step/2; v += step {
		p(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e0e0e0"/>`, left, width-right, y(v), y(v))
		p(`<text x="%.1f" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", left-6, y(v)+4, trimFloat(v))
	}
	p(`<text transform="translate(%.1f %.1f) rotate(-90)" text-anchor="middle" fill="#555">Mpps delivered</text>`+"\n", left-40, top+plotH/2)
	p(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#333"/>`+"\n", left, width-right, y(0), y(0))
	for i, res := range r.Results {
		gx := left + groupGap/2 + float64(i)*groupW
		for j, s := range systems {
			m := res.Measurement(s)
			if m == nil {
				continue
			}
			x := gx + float64(j)*(barW+barGap)
			p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %.2f Mpps, loss %s</title></rect>`+"\n",
				x, y(m.Mpps), barW, y(0)-y(m.Mpps), svgColours[s], esc(res.Name), s, m.Mpps, fmtLoss(m))
		}
		cx := gx + (groupW-groupGap)/2
		if res.FwdVsKernel > 0 {
			p(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9" fill="#333">%s</text>`+"\n",
				cx, y(0)+12, esc(fmtRatio(res.FwdVsKernel, false)))
		}
		label := fmt.Sprintf("%s %s fdb=%s flows=%s", res.Scenario, fmt.Sprintf("%dB", res.FrameBytes),
			Scale(res.FDBEntries), Scale(res.Flows))
		p(`<text transform="translate(%.1f %.1f) rotate(-45)" text-anchor="end">%s</text>`+"\n", cx+4, y(0)+24, esc(label))
	}
	p(`<text x="%.1f" y="%.1f" font-size="9" fill="#555">under each group: fwd / kernel</text>`+"\n", left, height-8)
	p("</svg>\n")
	return b.Flush()
}

func systemLabel(s System) string {
	switch s {
	case Fwd:
		return "fwd (XDP)"
	case Floor:
		return "floor (redirect only)"
	case Kernel:
		return "kernel (bridge + vxlan + L2 NHG)"
	}
	return string(s)
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-0" {
		return "0"
	}
	return s
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
