-- wrk_static.lua — a plain GET (the nginx baseline of bench/bench_http.sh); only the report.
-- Prints one "AB_RESULT k=v …" line.
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "AB_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, e.status))
end
