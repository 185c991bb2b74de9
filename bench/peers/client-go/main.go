// Command client-go-peer is one external contender of the engine benchmark (bench/engine.ts):
// client-go's own informer, syncing every ConfigMap of a namespace and recording when updates
// arrive, so our engine is measured against client-go on the same apiserver in the same run.
//
// Usage: client-go-peer <dynamic|typed> <kubeconfig> <namespace> <expectedObjects>
//
// It speaks the benchmark's line protocol (bench/_protocol.ts): one JSON message per line, the
// parent's on stdin ({"type":"collect",...}), ours on stdout ({"type":"synced",...},
// {"type":"received",...}, {"type":"error",...}). Nothing else is written to stdout; client-go's
// logs go to stderr. End of stdin ends the process.
//
// Feature gates are client-go's defaults; the parent turns WatchListClient off for one variant
// through client-go's own environment switch (KUBE_FEATURE_WatchListClient=false).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

var out = struct {
	sync.Mutex
	w *bufio.Writer
}{w: bufio.NewWriter(os.Stdout)}

// send writes one protocol message as a line on stdout.
func send(message map[string]any) {
	line, err := json.Marshal(message)
	if err != nil {
		fmt.Fprintf(os.Stderr, "client-go-peer: encode: %v\n", err)
		os.Exit(1)
	}
	out.Lock()
	defer out.Unlock()
	out.w.Write(line)
	out.w.WriteByte('\n')
	out.w.Flush()
}

func fail(format string, args ...any) {
	send(map[string]any{"type": "error", "message": fmt.Sprintf(format, args...)})
	os.Exit(1)
}

// nowMs is wall-clock milliseconds since the epoch, comparable with Node's
// performance.timeOrigin + performance.now() on the same machine.
func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

// cpuMs is the user + system CPU this process has used.
func cpuMs() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	ms := func(t syscall.Timeval) float64 { return float64(t.Sec)*1000 + float64(t.Usec)/1000 }
	return ms(usage.Utime) + ms(usage.Stime)
}

// rssMb reads VmRSS from /proc/self/status (what Node's process.memoryUsage().rss reports too).
func rssMb() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// smapsMb reads /proc/self/smaps_rollup: RSS split into anonymous and file-backed pages, in MB.
func smapsMb() map[string]float64 {
	fields := map[string]float64{}
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return fields
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(rest, " kB") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(rest, " kB")), 64)
		if err == nil {
			fields[name] = kb / 1024
		}
	}
	return map[string]float64{
		"rss":        fields["Rss"],
		"anonymous":  fields["Anonymous"],
		"fileBacked": fields["Rss"] - fields["Anonymous"],
	}
}

type arrival = [3]any

var (
	arrivalsMu sync.Mutex
	arrivals   []arrival
	added      atomic.Int64
)

func record(name, seqText string) {
	seq, _ := strconv.Atoi(seqText)
	if seq <= 0 {
		return
	}
	at := nowMs()
	arrivalsMu.Lock()
	arrivals = append(arrivals, arrival{name, seq, at})
	arrivalsMu.Unlock()
}

func arrivalCount() int {
	arrivalsMu.Lock()
	defer arrivalsMu.Unlock()
	return len(arrivals)
}

func handlers(onUpdate func(obj any)) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { added.Add(1) },
		UpdateFunc: func(_, obj any) { onUpdate(obj) },
	}
}

// informerFor builds the informer of one variant: the dynamic informer (unstructured objects,
// JSON) or the typed ConfigMap informer over protobuf.
func informerFor(variant string, config *rest.Config, namespace string) cache.SharedIndexInformer {
	switch variant {
	case "dynamic":
		client, err := dynamic.NewForConfig(config)
		if err != nil {
			fail("dynamic client: %v", err)
		}
		gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
		factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, namespace, nil)
		informer := factory.ForResource(gvr).Informer()
		informer.AddEventHandler(handlers(func(obj any) {
			u, ok := obj.(*unstructured.Unstructured)
			if !ok {
				return
			}
			seq, _, _ := unstructured.NestedString(u.Object, "data", "seq")
			record(u.GetName(), seq)
		}))
		return informer
	case "typed":
		config.ContentType = "application/vnd.kubernetes.protobuf"
		config.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
		client, err := kubernetes.NewForConfig(config)
		if err != nil {
			fail("typed client: %v", err)
		}
		factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace))
		informer := factory.Core().V1().ConfigMaps().Informer()
		informer.AddEventHandler(handlers(func(obj any) {
			if cm, ok := obj.(*corev1.ConfigMap); ok {
				record(cm.Name, cm.Data["seq"])
			}
		}))
		return informer
	default:
		fail("unknown variant %q (dynamic or typed)", variant)
		return nil
	}
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: client-go-peer <dynamic|typed> <kubeconfig> <namespace> <expectedObjects>")
		os.Exit(2)
	}
	variant, kubeconfig, namespace := os.Args[1], os.Args[2], os.Args[3]
	expected, err := strconv.Atoi(os.Args[4])
	if err != nil || expected < 0 {
		fmt.Fprintf(os.Stderr, "client-go-peer: expectedObjects %q is not a count\n", os.Args[4])
		os.Exit(2)
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		fail("kubeconfig %s: %v", kubeconfig, err)
	}
	baselineRss := rssMb()

	informer := informerFor(variant, config, namespace)
	stop := make(chan struct{})
	start := nowMs()
	go informer.Run(stop)
	// Polled every millisecond rather than with cache.WaitForCacheSync, whose 100 ms period would
	// add up to 100 ms to every sync time. Synced means stored; also wait until the handler has
	// been handed every object.
	for !informer.HasSynced() || added.Load() < int64(expected) {
		time.Sleep(time.Millisecond)
	}
	syncMs := nowMs() - start

	// RSS as the process holds it after the sync (no forced GC: a Go program does not run one),
	// then the live heap after a forced GC, like the Node workers' heapUsed after gc().
	rss := rssMb()
	atSync := smapsMb()
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	send(map[string]any{
		"type":       "synced",
		"syncMs":     syncMs,
		"rssMb":      rss,
		"rssDeltaMb": rss - baselineRss,
		"heapMb":     float64(stats.HeapAlloc) / (1 << 20),
		"objects":    expected,
		"detail": map[string]any{
			"atSync":        atSync,
			"goVersion":     runtime.Version(),
			"heapSysMb":     float64(stats.HeapSys) / (1 << 20),
			"heapInuseMb":   float64(stats.HeapInuse) / (1 << 20),
			"heapIdleMb":    float64(stats.HeapIdle) / (1 << 20),
			"heapReleaseMb": float64(stats.HeapReleased) / (1 << 20),
		},
	})

	// CPU from here on is the cost of receiving, decoding, caching and delivering the updates.
	cpuSince := cpuMs()
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		var message struct {
			Type      string  `json:"type"`
			Expected  int     `json:"expected"`
			TimeoutMs float64 `json:"timeoutMs"`
		}
		if err := json.Unmarshal(lines.Bytes(), &message); err != nil {
			fail("stdin line is not a protocol message: %v", err)
		}
		if message.Type != "collect" {
			continue
		}
		deadline := nowMs() + message.TimeoutMs
		for arrivalCount() < message.Expected && nowMs() < deadline {
			time.Sleep(20 * time.Millisecond)
		}
		arrivalsMu.Lock()
		taken := arrivals
		arrivals = nil
		arrivalsMu.Unlock()
		used := cpuMs() - cpuSince
		send(map[string]any{"type": "received", "arrivals": taken, "cpuMs": used, "rssMb": rssMb()})
		cpuSince = cpuMs()
	}
	close(stop)
}
