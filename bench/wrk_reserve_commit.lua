-- wrk_reserve_commit.lua — reserve + commit pairs against agentbudgetd (bench/bench_http.sh).
-- Each wrk thread keeps the hold ids that its reserves returned and commits them with its next
-- requests (a connection is not named in wrk's callbacks, so a thread's connections share the
-- queue); reserves go round-robin over AB_BUDGETS budgets named AB_PREFIX0, AB_PREFIX1, ….
-- Env: AB_TOKEN, AB_PREFIX, AB_BUDGETS. Prints one "AB_RESULT k=v …" line.
local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("AB_TOKEN"),
}
local prefix = os.getenv("AB_PREFIX")
local budgets = tonumber(os.getenv("AB_BUDGETS"))
-- reserve 1000 in + 500 out (1500 tokens), commit 1000 in + 300 out (1300 tokens): a reply's
-- "tokens" tells a reserve's decision from a commit's, which both carry the hold id
local reserve_fmt = '{"budget":"%s%d","model":"claude-sonnet-4-5",' ..
    '"usage":{"input":1000,"output":500}}'
local commit_body = '{"usage":{"input":1000,"output":300}}'
local holds, held, next_budget = {}, 0, 0
local threads = {}
commits, reserves, failed = 0, 0, 0 -- globals: done() reads them with thread:get()

function setup(thread)
    thread:set("thread_index", #threads)
    table.insert(threads, thread)
end

function init(args)
    next_budget = (thread_index or 0) * 7
end

function request()
    if held > 0 then
        local id = holds[held]
        holds[held] = nil
        held = held - 1
        return wrk.format("POST", "/v1/holds/" .. id .. "/commit", headers, commit_body)
    end
    next_budget = (next_budget + 1) % budgets
    return wrk.format("POST", "/v1/reserve", headers, string.format(reserve_fmt, prefix, next_budget))
end

function response(status, hdrs, body)
    if status ~= 200 then
        failed = failed + 1
        return
    end
    if string.find(body, '"tokens":1300,', 1, true) then
        commits = commits + 1
        return
    end
    local id = string.match(body, '"hold_id":"(h_%x+)"')
    if id then
        reserves = reserves + 1
        held = held + 1
        holds[held] = id
    else
        failed = failed + 1 -- a denial: the limits are meant never to deny
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    local c, r, f = 0, 0, 0
    for _, t in ipairs(threads) do
        c = c + t:get("commits")
        r = r + t:get("reserves")
        f = f + t:get("failed")
    end
    io.write(string.format(
        "AB_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d " ..
        "commits=%d reserves=%d failed=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, e.status, c, r, f))
end
