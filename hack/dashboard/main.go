// Command dashboard draws docs/images/dashboard-bench.png, the main panels of the Grafana
// dashboard (charts/wecom-operator/files/dashboard.json) as a real bench run filled them,
// from bench/results/results.json. It is its own module so that the plotting library is not
// a dependency of the operator.
//
//	cd hack/dashboard && go run . -in ../../bench/results/results.json -out ../../docs/images/dashboard-bench.png
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"log"
	"os"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// results is the part of hack/bench's results.json drawn here.
type results struct {
	Date        string `json:"date"`
	Convergence struct {
		CreatedObjects   int                `json:"createdObjects"`
		WallSeconds      float64            `json:"wallSecondsToAllReady"`
		KindReadySeconds map[string]float64 `json:"kindReadySeconds"`
		Calls            calls              `json:"calls"`
		ByKind           []struct {
			Kind           string  `json:"kind"`
			Objects        int     `json:"objects"`
			Calls          int     `json:"calls"`
			CallsPerObject float64 `json:"callsPerObject"`
		} `json:"byKind"`
		RateLimitDelays int `json:"clientRateLimitDelays"`
	} `json:"convergence"`
	SteadyState struct {
		DriftIntervalSeconds float64 `json:"driftIntervalSeconds"`
		Intervals            []struct {
			Index int    `json:"index"`
			Label string `json:"label"`
			Calls calls  `json:"calls"`
		} `json:"intervals"`
	} `json:"steadyState"`
	Storm struct {
		Notifications int     `json:"notifications"`
		Members       int     `json:"members"`
		UntilAllSent  float64 `json:"secondsUntilAllSent"`
		P50           float64 `json:"createToSentP50Seconds"`
		P99           float64 `json:"createToSentP99Seconds"`
		Max           float64 `json:"createToSentMaxSeconds"`
		OverQuota     int     `json:"copiesOverPerMemberQuota"`
		Calls         calls   `json:"calls"`
	} `json:"storm"`
}

type calls struct {
	Total      int            `json:"total"`
	Writes     int            `json:"writes"`
	Reads      int            `json:"reads"`
	Errors     int            `json:"errors"`
	ByEndpoint map[string]int `json:"byEndpoint"`
}

// Grafana's default palette, so the picture reads like the dashboard.
var palette = []color.Color{
	color.RGBA{0x73, 0xbf, 0x69, 0xff}, color.RGBA{0xf2, 0xcc, 0x0c, 0xff}, color.RGBA{0x8a, 0xb8, 0xff, 0xff},
	color.RGBA{0xff, 0x78, 0x0a, 0xff}, color.RGBA{0xf2, 0x49, 0x5c, 0xff}, color.RGBA{0x57, 0x94, 0xf2, 0xff},
}

func main() {
	in := flag.String("in", "../../bench/results/results.json", "hack/bench results")
	out := flag.String("out", "../../docs/images/dashboard-bench.png", "PNG to write")
	flag.Parse()
	data, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		log.Fatal(err)
	}
	panels := []func(results) (*plot.Plot, error){callsByEndpoint, readyByKind, steadyCalls, stormLatency}
	const cols, rows = 2, 2
	img := vgimg.New(16*vg.Inch, 10*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Inch / 4, PadY: vg.Inch / 4, PadTop: vg.Inch / 2,
		PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	dc.FillText(draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, 16), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter},
		vg.Point{X: 8 * vg.Inch, Y: 10*vg.Inch - vg.Inch/3},
		fmt.Sprintf("wecom-operator dashboard, main panels, bench run of %s (%d objects, %d-notification storm)", r.Date, r.Convergence.CreatedObjects, r.Storm.Notifications))
	for i, panel := range panels {
		p, err := panel(r)
		if err != nil {
			log.Fatal(err)
		}
		p.Draw(tiles.At(dc, i%cols, i/cols))
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// callsByEndpoint is the "WeCom calls by endpoint" panel over the whole convergence.
func callsByEndpoint(r results) (*plot.Plot, error) {
	type kv struct {
		k string
		v int
	}
	var eps []kv
	for k, v := range r.Convergence.Calls.ByEndpoint {
		eps = append(eps, kv{k, v})
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].v > eps[j].v || eps[i].v == eps[j].v && eps[i].k < eps[j].k })
	vals, names := plotter.Values{}, []string{}
	for _, e := range eps {
		vals = append(vals, float64(e.v))
		names = append(names, e.k)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("WeCom calls by endpoint: convergence, %d calls for %d objects (%d errors, %d limiter waits)",
		r.Convergence.Calls.Total, r.Convergence.CreatedObjects, r.Convergence.Calls.Errors, r.Convergence.RateLimitDelays)
	p.Y.Label.Text = "calls"
	bars, err := plotter.NewBarChart(vals, vg.Points(14))
	if err != nil {
		return nil, err
	}
	bars.Color = palette[5]
	bars.LineStyle.Width = 0
	p.Add(bars, plotter.NewGrid())
	// Writes dwarf reads; the count over each bar keeps the small ones readable.
	if err := addValueLabels(p, vals, "%.0f"); err != nil {
		return nil, err
	}
	pad(p, len(vals), 1.1)
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	return p, nil
}

// readyByKind is "Objects by kind and Ready state" reduced to when each kind was all Ready.
func readyByKind(r results) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Objects by kind: seconds until all Ready (all %d in %.0f s)", r.Convergence.CreatedObjects, r.Convergence.WallSeconds)
	p.Y.Label.Text = "seconds"
	vals, names := plotter.Values{}, []string{}
	for _, k := range r.Convergence.ByKind {
		vals = append(vals, r.Convergence.KindReadySeconds[k.Kind])
		names = append(names, fmt.Sprintf("%s\n%d, %.2f calls each", k.Kind, k.Objects, k.CallsPerObject))
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(40))
	if err != nil {
		return nil, err
	}
	bars.Color = palette[0]
	bars.LineStyle.Width = 0
	p.Add(bars, plotter.NewGrid())
	p.NominalX(names...)
	pad(p, len(vals), 1.1)
	return p, nil
}

// steadyCalls is "WeCom calls by endpoint" in steady state, one stacked bar per drift interval.
func steadyCalls(r results) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Steady state: WeCom reads per %.0f s drift interval (writes: 0)", r.SteadyState.DriftIntervalSeconds)
	p.Y.Label.Text = "calls"
	endpoints := map[string]int{}
	for _, iv := range r.SteadyState.Intervals {
		for ep, n := range iv.Calls.ByEndpoint {
			endpoints[ep] += n
		}
	}
	var order []string
	for ep := range endpoints {
		order = append(order, ep)
	}
	sort.Slice(order, func(i, j int) bool { return endpoints[order[i]] > endpoints[order[j]] })
	// The smallest endpoints are drawn as one "other" bar segment.
	const shown = 4
	groups := append(order[:min(shown, len(order)):min(shown, len(order))], "other")
	names := []string{}
	for _, iv := range r.SteadyState.Intervals {
		label := fmt.Sprintf("interval %d", iv.Index)
		if iv.Label != "" {
			label = iv.Label
		}
		names = append(names, label)
	}
	var below *plotter.BarChart
	for gi, g := range groups {
		vals := plotter.Values{}
		for _, iv := range r.SteadyState.Intervals {
			n := 0
			for ep, c := range iv.Calls.ByEndpoint {
				if ep == g || g == "other" && indexOf(order[:min(shown, len(order))], ep) < 0 {
					n += c
				}
			}
			vals = append(vals, float64(n))
		}
		bars, err := plotter.NewBarChart(vals, vg.Points(40))
		if err != nil {
			return nil, err
		}
		bars.Color = palette[gi%len(palette)]
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		p.Legend.Add(g, bars)
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false
	p.NominalX(names...)
	pad(p, len(names), 1.5) // room for the legend above the bars
	return p, nil
}

// stormLatency is "Create-to-sent latency" for the notification storm.
func stormLatency(r results) (*plot.Plot, error) {
	s := r.Storm
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Storm: create-to-sent of %d Notifications to %d members (all sent in %.0f s, %d over quota)",
		s.Notifications, s.Members, s.UntilAllSent, s.OverQuota)
	p.Y.Label.Text = "seconds"
	bars, err := plotter.NewBarChart(plotter.Values{s.P50, s.P99, s.Max}, vg.Points(40))
	if err != nil {
		return nil, err
	}
	bars.Color = palette[3]
	bars.LineStyle.Width = 0
	p.Add(bars, plotter.NewGrid())
	p.NominalX("p50", "p99", "max")
	if err := addValueLabels(p, plotter.Values{s.P50, s.P99, s.Max}, "%.1f s"); err != nil {
		return nil, err
	}
	pad(p, 3, 1.1)
	return p, nil
}

// pad keeps n nominal bars off the plot's edges and leaves room above the highest.
func pad(p *plot.Plot, n int, top float64) {
	p.X.Min, p.X.Max = -0.6, float64(n)-0.4
	p.Y.Min, p.Y.Max = 0, p.Y.Max*top
}

// addValueLabels writes each bar's value above it.
func addValueLabels(p *plot.Plot, vals plotter.Values, format string) error {
	xys, texts := plotter.XYs{}, []string{}
	for i, v := range vals {
		xys = append(xys, plotter.XY{X: float64(i), Y: v})
		texts = append(texts, fmt.Sprintf(format, v))
	}
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].XAlign = draw.XCenter
		labels.TextStyle[i].YAlign = draw.YBottom
	}
	p.Add(labels)
	return nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
