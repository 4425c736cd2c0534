// Command dashboard draws docs/images/dashboard-timeseries.png: the main panels of the Grafana
// dashboard (charts/wecom-operator/files/dashboard.json) as a real bench run filled them,
// second by second, from the series in bench/results/results.json (make bench). It is its own
// module so that the plotting library is not a dependency of the operator.
//
//	make dashboard-image
//	# or: cd hack/dashboard && go run . -in ../../bench/results/results.json -out ../../docs/images/dashboard-timeseries.png
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"log"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// results is the part of hack/bench's results.json drawn here.
type results struct {
	Date    string `json:"date"`
	Machine struct {
		CPUs int `json:"cpus"`
	} `json:"machine"`
	Config struct {
		WeComQPS float64 `json:"wecomQPS"`
	} `json:"config"`
	Convergence struct {
		Objects        map[string]int `json:"objects"`
		CreatedObjects int            `json:"createdObjects"`
		WallSeconds    float64        `json:"wallSecondsToAllReady"`
		Calls          struct {
			Total  int `json:"total"`
			Writes int `json:"writes"`
			Reads  int `json:"reads"`
		} `json:"calls"`
		RateLimitDelays int `json:"clientRateLimitDelays"`
	} `json:"convergence"`
	SteadyState struct {
		DriftIntervalSeconds float64 `json:"driftIntervalSeconds"`
	} `json:"steadyState"`
	Storm struct {
		Notifications int     `json:"notifications"`
		Members       int     `json:"members"`
		UntilAllSent  float64 `json:"secondsUntilAllSent"`
		P50           float64 `json:"createToSentP50Seconds"`
		P99           float64 `json:"createToSentP99Seconds"`
		OverQuota     int     `json:"copiesOverPerMemberQuota"`
	} `json:"storm"`
	Callbacks *struct {
		CallbackDriftIntervalSeconds float64 `json:"callbackDriftIntervalSeconds"`
	} `json:"callbacks"`
	Series struct {
		Convergence *series `json:"convergence"`
		Steady      *series `json:"steadyState"`
		Storm       *series `json:"storm"`
		Callbacks   *series `json:"callbacks"`
	} `json:"series"`
}

// series is hack/bench's PhaseSeries: gauges (…At) at whole seconds 0…Seconds, rates
// (…PerSecond) for the seconds [i, i+1).
type series struct {
	Seconds         int              `json:"seconds"`
	ReadyAt         map[string][]int `json:"readyByKindAt"`
	NotReadyAt      map[string][]int `json:"notReadyByKindAt"`
	HeldAt          []int            `json:"notificationsHeldAt"`
	SentPerSecond   []int            `json:"notificationsSentPerSecond"`
	LimiterWaits    []int            `json:"clientRateLimitDelaysPerSecond"`
	ReadsPerSecond  []int            `json:"wecomReadsPerSecond"`
	WritesPerSecond []int            `json:"wecomWritesPerSecond"`
	SentP50         []*float64       `json:"createToSentP50BySentSecond"`
	SentMax         []*float64       `json:"createToSentMaxBySentSecond"`
	CountingFrom    float64          `json:"countingFromSecond"`
	HandEdits       []float64        `json:"handEditSeconds"`
}

// Grafana's default palette, so the picture reads like the dashboard.
var (
	green  = color.RGBA{0x73, 0xbf, 0x69, 0xff}
	yellow = color.RGBA{0xf2, 0xcc, 0x0c, 0xff}
	blue   = color.RGBA{0x57, 0x94, 0xf2, 0xff}
	orange = color.RGBA{0xff, 0x78, 0x0a, 0xff}
	red    = color.RGBA{0xf2, 0x49, 0x5c, 0xff}
	purple = color.RGBA{0xb8, 0x77, 0xd9, 0xff}
	grey   = color.RGBA{0x80, 0x80, 0x80, 0xff}
)

// kinds are the fleet's kinds in the dashboard's order, with their colours.
var kinds = []struct {
	name  string
	color color.Color
}{
	{"WeComDepartment", blue}, {"WeComUser", green}, {"WeComAppChat", yellow}, {"ContactWay", orange}, {"Schedule", purple},
}

func main() {
	in := flag.String("in", "../../bench/results/results.json", "hack/bench results")
	out := flag.String("out", "../../docs/images/dashboard-timeseries.png", "PNG to write")
	flag.Parse()
	data, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		log.Fatal(err)
	}
	if r.Series.Convergence == nil || r.Series.Storm == nil {
		log.Fatal("no series in ", *in, ": run make bench with a hack/bench that records them")
	}
	panels := []func(results) (*plot.Plot, error){readyByKind, convergenceCalls, stormSent, stormHeld, stormLatency, driftReads}
	const cols, rows = 2, 3
	width, height := 16*vg.Inch, 15*vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Inch / 3, PadY: vg.Inch / 3, PadTop: vg.Inch / 2,
		PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 6}
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	dc.FillText(draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, 17), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter},
		vg.Point{X: width / 2, Y: height - vg.Inch/3},
		fmt.Sprintf("wecom-operator dashboard, main panels second by second: make bench of %s (%s objects, %s-notification storm, %d CPUs)",
			r.Date[:10], num(r.Convergence.CreatedObjects), num(r.Storm.Notifications), r.Machine.CPUs))
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

// newPlot is a panel with the dashboard's look: a title, axis labels, a grid, a legend.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = vg.Points(11), vg.Points(11)
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(10), vg.Points(10)
	p.Legend.TextStyle.Font.Size = vg.Points(10.5)
	p.Legend.ThumbnailWidth = vg.Points(22)
	p.X.Tick.Marker, p.Y.Tick.Marker = niceTicks{}, niceTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.Gray{0xdd}, color.Gray{0xdd}
	p.Add(grid)
	p.Y.Min = 0
	return p
}

// line adds a line through (x0+i·step, v[i]) and its legend entry; NaN values are skipped.
func line(p *plot.Plot, label string, c color.Color, dashed bool, x0, step float64, v []float64) error {
	xys := plotter.XYs{}
	for i, y := range v {
		if math.IsNaN(y) {
			continue
		}
		xys = append(xys, plotter.XY{X: x0 + float64(i)*step, Y: y})
	}
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color, l.Width = c, vg.Points(1.8)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l)
	if label != "" {
		p.Legend.Add(label, l)
	}
	return nil
}

func floats(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func sum(v []int) (n int) {
	for _, x := range v {
		n += x
	}
	return n
}

// readyByKind is "Objects by kind and Ready state" during convergence, each kind as a share of
// its objects so that 100 schedules and 2,000 members fit one axis.
func readyByKind(r results) (*plot.Plot, error) {
	s := r.Series.Convergence
	p := newPlot(fmt.Sprintf("Convergence: objects Ready by kind (all %s Ready after %.0f s)", num(r.Convergence.CreatedObjects), r.Convergence.WallSeconds),
		"seconds after the apply began", `% of the kind Ready  (wecom_objects{ready="True"})`)
	for _, k := range kinds {
		v, ok := s.ReadyAt[k.name]
		total := r.Convergence.Objects[k.name]
		if !ok || total == 0 {
			continue
		}
		pct := make([]float64, len(v))
		for i, x := range v {
			pct[i] = 100 * float64(x) / float64(total)
		}
		if err := line(p, fmt.Sprintf("%s (%s)", k.name, num(total)), k.color, false, 0, 1, pct); err != nil {
			return nil, err
		}
	}
	p.Y.Max = 105
	p.X.Min, p.X.Max = 0, float64(s.Seconds)
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.YOffs = vg.Points(8)
	return p, nil
}

// convergenceCalls is "WeCom calls by endpoint" and "Rate-limiter waits" during convergence,
// endpoints reduced to writes and reads.
func convergenceCalls(r results) (*plot.Plot, error) {
	s := r.Series.Convergence
	c := r.Convergence
	p := newPlot(fmt.Sprintf("Convergence: WeCom calls per second (%s writes, %s reads; limiter waits %s)",
		num(c.Calls.Writes), num(c.Calls.Reads), num(c.RateLimitDelays)),
		"seconds after the apply began", "per second")
	if err := line(p, "WeCom writes/s (simulator's call log)", blue, false, 0.5, 1, floats(s.WritesPerSecond)); err != nil {
		return nil, err
	}
	if err := line(p, "WeCom reads/s, gettoken included", green, false, 0.5, 1, floats(s.ReadsPerSecond)); err != nil {
		return nil, err
	}
	if err := line(p, "client rate-limiter waits/s (wecom_client_rate_limited_total)", orange, true, 0.5, 1, floats(s.LimiterWaits)); err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = 0, float64(s.Seconds)
	p.Legend.Top, p.Legend.Left = true, false
	p.Y.Max *= 1.3 // room for the legend
	return p, nil
}

// stormSent is "Notifications by phase and channel" (Sent per second) during the storm, with
// what WeCom received.
func stormSent(r results) (*plot.Plot, error) {
	s := r.Series.Storm
	p := newPlot(fmt.Sprintf("Storm: Notifications Sent per second (%s to %d members, all Sent after %.0f s)",
		num(r.Storm.Notifications), r.Storm.Members, r.Storm.UntilAllSent),
		"seconds after the first create", "per second")
	if err := line(p, `Sent/s (wecom_notifications_total{phase="Sent"})`, green, false, 0.5, 1, floats(s.SentPerSecond)); err != nil {
		return nil, err
	}
	if err := line(p, "WeCom writes/s (message/send)", blue, true, 0.5, 1, floats(s.WritesPerSecond)); err != nil {
		return nil, err
	}
	if err := line(p, "WeCom reads/s (drift checks go on)", grey, false, 0.5, 1, floats(s.ReadsPerSecond)); err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = 0, float64(s.Seconds)
	p.Legend.Top, p.Legend.Left = true, false
	p.Y.Max *= 1.45
	return p, nil
}

// stormHeld is "Held by quota" with the Notifications not yet Sent.
func stormHeld(r results) (*plot.Plot, error) {
	s := r.Series.Storm
	p := newPlot(fmt.Sprintf("Storm: Notifications waiting (%d copies over WeCom's per-member quota)", r.Storm.OverQuota),
		"seconds after the first create", "Notifications")
	if v, ok := s.NotReadyAt["Notification"]; ok {
		if err := line(p, `not yet Sent (wecom_objects{kind="Notification", ready!="True"})`, yellow, false, 0, 1, floats(v)); err != nil {
			return nil, err
		}
	}
	held := "held by quota (wecom_notifications_held)"
	if sum(s.HeldAt) == 0 {
		held += ": none, no member over 30 a minute"
	}
	if err := line(p, held, red, false, 0, 1, floats(s.HeldAt)); err != nil {
		return nil, err
	}
	if v, ok := s.ReadyAt["Notification"]; ok {
		if err := line(p, "Sent (Ready)", green, true, 0, 1, floats(v)); err != nil {
			return nil, err
		}
	}
	p.X.Min, p.X.Max = 0, float64(s.Seconds)
	p.Legend.Top, p.Legend.Left = true, false
	p.Y.Max *= 1.3
	return p, nil
}

// stormLatency is "Create-to-sent latency": the Notifications that turned Sent in each second.
func stormLatency(r results) (*plot.Plot, error) {
	s := r.Series.Storm
	p := newPlot(fmt.Sprintf("Storm: create-to-sent of the Notifications Sent each second (p50 %.1f s, p99 %.1f s overall)",
		r.Storm.P50, r.Storm.P99), "seconds after the first create (when Sent)", "seconds from create to Sent")
	opt := func(v []*float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = math.NaN()
			if x != nil {
				out[i] = *x
			}
		}
		return out
	}
	if err := line(p, "median", blue, false, 0.5, 1, opt(s.SentP50)); err != nil {
		return nil, err
	}
	if err := line(p, "max", red, true, 0.5, 1, opt(s.SentMax)); err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = 0, float64(s.Seconds)
	p.Legend.Top, p.Legend.Left = true, true
	p.Y.Max *= 1.2
	return p, nil
}

// driftReads compares WeCom reads per second after a restart, callbacks off (the steady
// state) and on, as "WeCom calls by endpoint" would show them over a few minutes.
func driftReads(r results) (*plot.Plot, error) {
	off, on := r.Series.Steady, r.Series.Callbacks
	if off == nil {
		return nil, errors.New("no steady-state series")
	}
	title := fmt.Sprintf("After a restart: WeCom reads per second, %.0f s drift interval", r.SteadyState.DriftIntervalSeconds)
	if on != nil && r.Callbacks != nil {
		title += fmt.Sprintf(": callbacks off vs on (then %.0f s)", r.Callbacks.CallbackDriftIntervalSeconds)
	}
	p := newPlot(title, "seconds after the manager's restart", "reads per second (5 s average)")
	if err := line(p, fmt.Sprintf("callbacks off: %s reads in %d s", num(sum(off.ReadsPerSecond)), off.Seconds), orange, false, 2.5, 5, average(off.ReadsPerSecond, 5)); err != nil {
		return nil, err
	}
	maxX := float64(off.Seconds)
	if on != nil {
		if err := line(p, fmt.Sprintf("callbacks on: %s reads in %d s", num(sum(on.ReadsPerSecond)), on.Seconds), blue, false, 2.5, 5, average(on.ReadsPerSecond, 5)); err != nil {
			return nil, err
		}
		maxX = max(maxX, float64(on.Seconds))
		if len(on.HandEdits) > 0 {
			xys := plotter.XYs{}
			for _, t := range on.HandEdits {
				xys = append(xys, plotter.XY{X: t, Y: 0})
			}
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = red, draw.TriangleGlyph{}, vg.Points(4)
			p.Add(sc)
			p.Legend.Add(fmt.Sprintf("hand edit in WeCom (%d, each repaired by a callback)", len(on.HandEdits)), sc)
		}
		if on.CountingFrom > 0 {
			// Where every object is on the callback cadence: the windows the bench counts.
			v, err := plotter.NewLine(plotter.XYs{{X: on.CountingFrom, Y: 0}, {X: on.CountingFrom, Y: p.Y.Max}})
			if err != nil {
				return nil, err
			}
			v.Color, v.Width, v.Dashes = grey, vg.Points(1), []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(v)
			p.Legend.Add("callbacks on: all objects on the callback cadence", v)
		}
	}
	p.X.Min, p.X.Max = 0, maxX
	p.Legend.Top, p.Legend.Left = true, false
	p.Y.Max *= 1.35
	return p, nil
}

// average is the mean of each window of n seconds, one value per window (at its middle).
func average(v []int, n int) []float64 {
	var out []float64
	for i := 0; i+n <= len(v); i += n {
		out = append(out, float64(sum(v[i:i+n]))/float64(n))
	}
	return out
}

// niceTicks puts 5 to 10 major ticks at 1, 2 or 5 × 10ⁿ apart, labelled without decimals
// when they are whole, with a minor tick between each.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi <= lo {
		return []plot.Tick{{Value: lo, Label: label(lo)}}
	}
	step := 1.0
	for mag := math.Pow(10, math.Floor(math.Log10(hi-lo))-1); ; mag *= 10 {
		if n := (hi - lo) / mag; n <= 10 {
			step = mag
			break
		} else if n/2 <= 10 {
			step = 2 * mag
			break
		} else if n/5 <= 10 {
			step = 5 * mag
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step/1e9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: label(v)})
		if m := v + step/2; m <= hi {
			ticks = append(ticks, plot.Tick{Value: m})
		}
	}
	return ticks
}

func label(v float64) string {
	if math.Abs(v-math.Round(v)) < 1e-9 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", v)
}

// num writes n with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
