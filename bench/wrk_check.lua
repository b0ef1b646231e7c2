-- wrk_check.lua — POST /v1/check against agentbudgetd, one fixed request (bench/bench_http.sh).
-- Env: AB_TOKEN (an agent token), AB_BUDGET (a budget path). Prints one "AB_RESULT k=v …" line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("AB_TOKEN")
wrk.body = '{"budget":"' .. os.getenv("AB_BUDGET") ..
    '","model":"claude-sonnet-4-5","usage":{"input":1000,"output":500}}'

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "AB_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, e.status))
end
