-- fta socket proxy: the policy for the create bodies (bot container, lab job container, network,
-- bot volume, data volume).
--
-- Loaded by haproxy.cfg (lua-load, relative to the cfg's own directory), called as
-- `http-request lua.fta_create_body` once the framing rules there have passed. It sets the
-- transaction variable txn.verdict to "ok" or to the name of the rule that failed; haproxy.cfg
-- denies anything else, so a Lua error (no verdict at all) is a denial too: fail closed.
--
-- Why a parser and not regexes: the proxy must REQUIRE fta's whole hardened shape, bind names
-- across the request (the bot in ?name= = its volume = its fta.bot label; the job in ?name= = its
-- fta.job label; the client in the fta.client label = its network), and still accept any
-- insignificant whitespace and any key order. Regexes can forbid keys, but cannot require a
-- value at a given place in a JSON tree independently of order, nor compare two places with
-- each other.
--
-- How the parser sees what the engine's decoder (Go's encoding/json) sees:
--   - Go matches struct keys case-insensitively and lets the last duplicate win (nested objects
--     even merge). Here every object's keys must be EXACTLY fta's spelling (an allow-list per
--     object), and two keys of one object that are equal ignoring ASCII case are refused
--     (body.duplicate). With unique, exactly spelled ASCII keys, Go's reading is this one.
--     Go's non-ASCII folds (U+017F = s, U+212A = k, ...) cannot spell an allowed key: every
--     allowed key is ASCII.
--   - \uXXXX escapes could spell anything; fta never sends one (body.uescape). Raw control
--     bytes inside strings are refused (body.control); whitespace between tokens is fine.
--   - Go ignores trailing data after the object; here the body must be one object and nothing
--     else (body.shape). null is never accepted (Go would leave the field as it was).
--   - Integers are plain JSON integers (Go refuses 1.0 or 1e3 for an int64 field anyway).
-- Unknown keys are refused at every level; the well-known dangerous ones get their own rule
-- name in the log (ctr.privileged, ctr.binds, ...), the rest are ctr.key / net.key / vol.key.
-- docs/proxy.md lists the rules; the bodies are those of docs/contracts.md.

local byte, sub, find, lower = string.byte, string.sub, string.find, string.lower

-- ---------------------------------------------------------------------------------------------
-- Bounds. fta's own values (Sources/DockerRuntime/HardenedBotContainer.swift, BotSize in
-- Sources/FTACore/Bots/BotCatalog.swift) must stay within them; they are what a compromised
-- portal can ask for at most.
-- ---------------------------------------------------------------------------------------------
local MiB = 1048576
local LIMIT = {
    -- The largest preset is 768 MiB of RAM, and 1 GiB of RAM and swap together.
    memory_min = 6 * MiB,           -- the engine's own minimum
    memory_max = 1024 * MiB,
    memory_swap_max = 2048 * MiB,
    nano_cpus_max = 1000000000,     -- one core; the largest preset
    pids_max = 256,
    tmpfs_max = 64 * MiB,
    log_size_max = 10 * MiB,        -- per file; with log_files_max, 30 MiB of logs per bot
    log_files_max = 3,
    restarts_max = 5,
    stop_timeout_max = 99,          -- the /stop?t= route allows two digits too
}
local BOT_USER = "1000:1000"
local USER_DATA = "/freqtrade/user_data"
-- Where a lab job sees its shared candle cache (docs/proxy.md, Lab jobs).
local JOB_DATA = USER_DATA  -- the image owns it as uid 1000, so a new data volume does too

-- ---------------------------------------------------------------------------------------------
-- A strict JSON parser. Objects, arrays and numbers carry a metatable so that the checks can
-- tell them apart; strings are Lua strings, true/false are booleans, null is NULL.
-- ---------------------------------------------------------------------------------------------
local OBJECT, ARRAY, NUMBER = {}, {}, {}
local NULL = setmetatable({}, { __name = "null" })
local MAX_DEPTH = 16
local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function refuse(rule)
    error({ rule = rule }, 0)
end

-- Strings longer than this are never compared with anything (Env, Cmd, a health test): with an
-- escape in them they are returned undecoded, which saves decoding a whole rendered config.
-- Undecoded, such a string still holds a backslash and is longer than any value a check
-- accepts, so it can only pass where any string is fine.
local DECODE_MAX = 256

local function parse(body)
    -- The structure is read from `s`, a copy of the body in which every escape pair but \u is
    -- masked by two letters (same length, so positions agree); values are cut from `body`. A
    -- string then ends at the first quote in `s`, found by one C-level search, even in Env with
    -- its thousands of escaped quotes. Outside strings "aa" is never valid JSON, so masking cannot
    -- make a bad body look good. A backslash left is a \u (refused by name) or not JSON.
    local s = body
    if find(body, "\\", 1, true) then
        s = body:gsub('\\[\\"/bfnrt]', "aa")
        local bad = find(s, "\\", 1, true)
        if bad then refuse(sub(s, bad + 1, bad + 1) == "u" and "body.uescape" or "body.json") end
    end
    local pos, depth = 1, 0
    local parse_value

    local function skip_ws()
        pos = find(s, "[^ \t\r\n]", pos) or (#s + 1)
    end

    local function parse_string()
        -- pos is on the opening quote.
        -- JSON's control bytes, spelled out (%c would follow the C library's locale).
        local j = find(s, '["\0-\31]', pos + 1)
        if not j then refuse("body.json") end
        if byte(s, j) ~= 34 then refuse("body.control") end
        local value = sub(body, pos + 1, j - 1)
        pos = j + 1
        if #value <= DECODE_MAX and find(value, "\\", 1, true) then value = value:gsub("\\(.)", ESCAPES) end
        return value
    end

    local function parse_number()
        local a, b = find(s, "^-?%d+", pos)
        if not a then refuse("body.json") end
        if find(s, "^-?0%d", pos) then refuse("body.json") end
        local integer = true
        local c, d = find(s, "^%.%d+", b + 1)
        if c then b, integer = d, false end
        c, d = find(s, "^[eE][-+]?%d+", b + 1)
        if c then b, integer = d, false end
        local literal = sub(s, a, b)
        pos = b + 1
        return setmetatable({ literal = literal, integer = integer }, NUMBER)
    end

    -- Reads a container's members until its closing byte `close` (} or ]), one `member()` each,
    -- separated by commas; an empty container is fine, a trailing comma is not.
    local function members(close, member)
        depth = depth + 1
        if depth > MAX_DEPTH then refuse("body.json") end
        pos = pos + 1
        skip_ws()
        if byte(s, pos) == close then
            pos, depth = pos + 1, depth - 1
            return
        end
        while true do
            member()
            skip_ws()
            local c = byte(s, pos)
            if c == close then
                pos, depth = pos + 1, depth - 1
                return
            elseif c ~= 44 then
                refuse("body.json")
            end
            pos = pos + 1
            skip_ws()
        end
    end

    local function parse_object()
        local object, seen = setmetatable({}, OBJECT), {}
        members(125, function()
            if byte(s, pos) ~= 34 then refuse("body.json") end
            local key = parse_string()
            local folded = lower(key)
            if seen[folded] then refuse("body.duplicate") end
            seen[folded] = true
            skip_ws()
            if byte(s, pos) ~= 58 then refuse("body.json") end
            pos = pos + 1
            skip_ws()
            object[key] = parse_value()
        end)
        return object
    end

    local function parse_array()
        local array = setmetatable({}, ARRAY)
        members(93, function() array[#array + 1] = parse_value() end)
        return array
    end

    parse_value = function()
        local c = byte(s, pos)
        if c == 123 then return parse_object()
        elseif c == 91 then return parse_array()
        elseif c == 34 then return parse_string()
        elseif c == 116 and sub(s, pos, pos + 3) == "true" then pos = pos + 4; return true
        elseif c == 102 and sub(s, pos, pos + 4) == "false" then pos = pos + 5; return false
        elseif c == 110 and sub(s, pos, pos + 3) == "null" then pos = pos + 4; return NULL
        elseif c == 45 or (c and c >= 48 and c <= 57) then return parse_number()
        end
        refuse("body.json")
    end

    skip_ws()
    if byte(s, pos) ~= 123 then refuse("body.shape") end
    local body = parse_object()
    skip_ws()
    if pos <= #s then refuse("body.shape") end
    return body
end

-- ---------------------------------------------------------------------------------------------
-- Checks. Each names the rule it enforces; the first that fails is the verdict.
-- ---------------------------------------------------------------------------------------------
local function is_object(v) return getmetatable(v) == OBJECT end
local function is_array(v) return getmetatable(v) == ARRAY end

-- fta's id grammar (DESIGN.md, Names): [a-z0-9][a-z0-9-]{0,30}.
local function is_id(v)
    return type(v) == "string" and #v <= 31 and find(v, "^[a-z0-9][a-z0-9-]*$") ~= nil
end

local function id_after(prefix, v)
    if type(v) ~= "string" or sub(v, 1, #prefix) ~= prefix then return nil end
    local id = sub(v, #prefix + 1)
    return is_id(id) and id or nil
end

local function integer(v, min, max)
    if getmetatable(v) ~= NUMBER or not v.integer or #v.literal > 18 then return nil end
    local n = math.tointeger(tonumber(v.literal))
    if n == nil or n < min or n > max then return nil end
    return n
end

local function must(ok, rule)
    if not ok then refuse(rule) end
end

-- Every key of `object` must be in `allowed` (exact spelling); an unknown key is refused under
-- its well-known name from `named` (keyed by lower case) or under `fallback`.
local function only_keys(object, allowed, named, fallback)
    for key in pairs(object) do
        if not allowed[key] then refuse(named[lower(key)] or fallback) end
    end
end

local function set(...)
    local t = {}
    for _, k in ipairs({ ... }) do t[k] = true end
    return t
end

-- An array holding exactly `values`, in that order.
local function array_of(v, values)
    if not is_array(v) or #v ~= #values then return false end
    for i, value in ipairs(values) do
        if v[i] ~= value then return false end
    end
    return true
end

local function strings(v)
    if not is_array(v) then return false end
    for _, s in ipairs(v) do
        if type(s) ~= "string" then return false end
    end
    return true
end

-- A string-to-string object with exactly the keys of `wanted`; a wanted value of true means any
-- string that `valid` (optional) accepts.
local function exact_map(v, wanted)
    if not is_object(v) then return false end
    for key, value in pairs(v) do
        local want = wanted[key]
        if want == nil or type(value) ~= "string" then return false end
        if want ~= true and value ~= want then return false end
    end
    for key in pairs(wanted) do
        if v[key] == nil then return false end
    end
    return true
end

-- "10m", "512k": a size in bytes, or nil.
local function size_bytes(v, units)
    if type(v) ~= "string" then return nil end
    local digits, unit = v:match("^(%d+)(%a?)$")
    unit = unit and lower(unit)
    if not digits or #digits > 12 or not units[unit] then return nil end
    return tonumber(digits) * units[unit]
end
-- Plain bytes, k or m (either case), as both the kernel's tmpfs and Docker's log options read them.
local KM = { [""] = 1, k = 1024, m = MiB }

-- The tmpfs option string: only these options; noexec, nosuid, nodev and a bounded size required.
local function tmpfs_ok(v)
    if type(v) ~= "string" then return false end
    local have = {}
    for option in (v .. ","):gmatch("([^,]*),") do
        if option == "rw" or option == "noexec" or option == "nosuid" or option == "nodev" then
            have[option] = true
        elseif option:match("^size=") then
            local bytes = size_bytes(option:sub(6), KM)
            if not bytes or bytes < 1 or bytes > LIMIT.tmpfs_max then return false end
            have.size = true
        elseif option:match("^mode=[0-7][0-7][0-7][0-7]?$") then
            have.mode = true
        else
            return false
        end
    end
    return have.noexec and have.nosuid and have.nodev and have.size or false
end

-- Keys a hostile container spec would use, by the rule that names them in the log.
local CONTAINER_NAMED = {}
for rule, keys in pairs({
    ["ctr.privileged"] = { "privileged" },
    ["ctr.capadd"] = { "capadd", "capabilities" },
    ["ctr.binds"] = { "binds" },
    ["ctr.mountopts"] = { "volumeoptions", "driverconfig", "bindoptions", "tmpfsoptions" },
    ["ctr.devices"] = { "devices", "devicerequests", "devicecgrouprules" },
    ["ctr.volumes"] = { "volumesfrom", "volumes", "volumedriver" },
    ["ctr.namespace"] = { "pidmode", "ipcmode", "utsmode", "usernsmode", "cgroupnsmode", "cgroup" },
    ["ctr.ports"] = { "portbindings", "publishallports", "exposedports" },
    ["ctr.sysctls"] = { "sysctls" },
    ["ctr.runtime"] = { "runtime", "isolation" },
    ["ctr.cgroup"] = { "cgroupparent" },
    ["ctr.oom"] = { "oomkilldisable", "oomscoreadj" },
    ["ctr.procpaths"] = { "maskedpaths", "readonlypaths" },
    ["ctr.links"] = { "links", "extrahosts" },
}) do
    for _, key in ipairs(keys) do CONTAINER_NAMED[key] = rule end
end

local CONTAINER_KEYS = set("Cmd", "Entrypoint", "Env", "Healthcheck", "HostConfig", "Image", "Labels",
    "NetworkingConfig", "StopTimeout", "User")
local HOST_KEYS = set("CapDrop", "Init", "LogConfig", "Memory", "MemorySwap", "Mounts", "NanoCpus", "NetworkMode",
    "PidsLimit", "ReadonlyRootfs", "RestartPolicy", "SecurityOpt", "Tmpfs")
local HEALTH_KEYS = set("Test", "Interval", "Timeout", "Retries", "StartPeriod")
local NO_NEW_PRIVILEGES = set("no-new-privileges", "no-new-privileges:true", "no-new-privileges=true")
local MAX_NS = 86400 * 1000000000   -- a day, in nanoseconds: far beyond any health timing fta uses

-- The process: who runs what. Shared by bots and jobs.
local function check_process(c)
    must(c.User == BOT_USER, "ctr.user")
    must(type(c.Image) == "string" and #c.Image <= 255 and find(c.Image, "^[a-z0-9][a-z0-9._/:@-]*$"), "ctr.image")
    must(c.Entrypoint == nil or strings(c.Entrypoint), "ctr.command")
    must(c.Cmd == nil or strings(c.Cmd), "ctr.command")
    must(c.Env == nil or strings(c.Env), "ctr.env")
    must(c.StopTimeout == nil or integer(c.StopTimeout, 0, LIMIT.stop_timeout_max), "ctr.stoptimeout")
end

-- The hardened HostConfig, shared by bots and jobs: every field required, every bound checked.
-- With `no_swap` (jobs) MemorySwap must equal Memory. Returns HostConfig; its RestartPolicy,
-- Mounts and NetworkMode are the caller's to check (they differ between bots and jobs).
local function check_host(c, no_swap)
    local host = c.HostConfig
    must(is_object(host), "ctr.hostconfig")
    only_keys(host, HOST_KEYS, CONTAINER_NAMED, "ctr.key")
    must(host.ReadonlyRootfs == true, "ctr.readonlyrootfs")
    must(array_of(host.CapDrop, { "ALL" }), "ctr.capdrop")
    must(is_array(host.SecurityOpt) and #host.SecurityOpt == 1 and NO_NEW_PRIVILEGES[host.SecurityOpt[1]], "ctr.securityopt")
    must(host.Init == true, "ctr.init")
    local memory = integer(host.Memory, LIMIT.memory_min, LIMIT.memory_max)
    must(memory, "ctr.memory")
    -- Equal to Memory: no swap; above it: RAM and swap together. -1 (unlimited) and 0 (twice
    -- Memory, the engine's default) are not fta's.
    must(integer(host.MemorySwap, memory, no_swap and memory or LIMIT.memory_swap_max), "ctr.memoryswap")
    must(integer(host.NanoCpus, 1, LIMIT.nano_cpus_max), "ctr.nanocpus")
    must(integer(host.PidsLimit, 1, LIMIT.pids_max), "ctr.pidslimit")
    must(is_object(host.Tmpfs) and next(host.Tmpfs, next(host.Tmpfs)) == nil and tmpfs_ok(host.Tmpfs["/tmp"]), "ctr.tmpfs")
    local log = host.LogConfig
    must(is_object(log), "ctr.logconfig")
    only_keys(log, set("Type", "Config"), CONTAINER_NAMED, "ctr.key")
    local log_size = exact_map(log.Config, { ["max-size"] = true, ["max-file"] = true }) and size_bytes(log.Config["max-size"], KM)
    must(log.Type == "json-file" and log_size and log_size >= 1 and log_size <= LIMIT.log_size_max
        and log.Config["max-file"]:match("^[1-9]%d?$") and tonumber(log.Config["max-file"]) <= LIMIT.log_files_max, "ctr.logconfig")
    return host
end

-- One client's network only, in both places the engine reads it: NetworkMode and the single
-- entry of NetworkingConfig.EndpointsConfig.
local function check_client_network(c, host, network, mode_rule, endpoints_rule)
    must(host.NetworkMode == network, mode_rule)
    local networking = c.NetworkingConfig
    must(is_object(networking), endpoints_rule)
    only_keys(networking, set("EndpointsConfig"), CONTAINER_NAMED, "ctr.key")
    local endpoints = networking.EndpointsConfig
    must(is_object(endpoints) and is_object(endpoints[network]) and next(endpoints[network]) == nil
        and next(endpoints, next(endpoints)) == nil, endpoints_rule)
end

-- POST /containers/create?name=fta-bot-<bot>: fta's hardened bot, for that bot and its client.
local function check_container(c, bot)
    only_keys(c, CONTAINER_KEYS, CONTAINER_NAMED, "ctr.key")
    local labels = c.Labels
    must(exact_map(labels, { ["fta.bot"] = bot, ["fta.client"] = true, ["fta.managed"] = "true" })
        and is_id(labels["fta.client"]), "ctr.labels")
    local network = "fta-client-" .. labels["fta.client"]
    check_process(c)
    local health = c.Healthcheck
    if health ~= nil then
        must(is_object(health), "ctr.healthcheck")
        only_keys(health, HEALTH_KEYS, CONTAINER_NAMED, "ctr.key")
        must(strings(health.Test) and #health.Test >= 1, "ctr.healthcheck")
        for _, field in ipairs({ "Interval", "Timeout", "StartPeriod" }) do
            must(health[field] == nil or integer(health[field], 0, MAX_NS), "ctr.healthcheck")
        end
        must(health.Retries == nil or integer(health.Retries, 0, 100), "ctr.healthcheck")
    end

    local host = check_host(c)
    local restart = host.RestartPolicy
    if restart ~= nil then
        must(is_object(restart), "ctr.restart")
        only_keys(restart, set("Name", "MaximumRetryCount"), CONTAINER_NAMED, "ctr.key")
        -- on-failure with a count of 0 restarts forever, as always and unless-stopped do.
        must((restart.Name == "no" and (restart.MaximumRetryCount == nil or integer(restart.MaximumRetryCount, 0, 0)))
            or (restart.Name == "on-failure" and integer(restart.MaximumRetryCount, 1, LIMIT.restarts_max)), "ctr.restart")
    end

    -- Its own volume only, where fta mounts it. Never a data volume (fta-data-*): those are the
    -- lab's, shared by every client's jobs.
    local mounts = host.Mounts
    must(is_array(mounts) and #mounts == 1 and is_object(mounts[1]), "ctr.mounts")
    local mount = mounts[1]
    only_keys(mount, set("Type", "Source", "Target", "ReadOnly"), CONTAINER_NAMED, "ctr.key")
    must(mount.Type == "volume" and mount.Source == "fta-bot-" .. bot and mount.Target == USER_DATA
        and (mount.ReadOnly == nil or type(mount.ReadOnly) == "boolean"), "ctr.mounts")

    check_client_network(c, host, network, "ctr.networkmode", "ctr.endpoints")
end

-- POST /containers/create?name=fta-job-<job>: a one-shot lab job (validate, download, backtest)
-- with the bots' hardening, plus what makes it one-shot and confines it by kind:
--   validate  runs a client's strategy code to read its parameters: no volume, no network at all.
--   download  fetches candles into the shared cache: that one data volume, writable, and its
--             client's network (the exchange, or the market simulator in tests).
--   backtest  runs a client's strategy on the cache: the same volume READ-ONLY (a client's code
--             must not alter the candles other clients' backtests read), its client's network.
-- A job never mounts a bot's volume (fta-bot-*): a client's code would read that bot's database
-- and config. It never restarts (RestartPolicy {"Name":"no"} is required, not defaulted: the
-- engine's default is the daemon's, which fta does not control) and has no healthcheck.
local JOB_KINDS = set("validate", "download", "backtest")
local JOB_KEYS = set("Cmd", "Entrypoint", "Env", "HostConfig", "Image", "Labels", "NetworkingConfig", "StopTimeout",
    "User")
local JOB_NAMED = setmetatable({ healthcheck = "job.healthcheck" }, { __index = CONTAINER_NAMED })

local function check_job(c, job)
    only_keys(c, JOB_KEYS, JOB_NAMED, "ctr.key")
    local labels = c.Labels
    must(exact_map(labels, { ["fta.managed"] = "true", ["fta.job"] = job, ["fta.client"] = true, ["fta.kind"] = true })
        and is_id(labels["fta.client"]), "job.labels")
    local kind = labels["fta.kind"]
    must(JOB_KINDS[kind], "job.kind")
    check_process(c)
    -- Jobs never swap: MemorySwap equals Memory (a job that needs more memory fails, visibly,
    -- instead of slowing every bot on the host down).
    local host = check_host(c, true)
    must(exact_map(host.RestartPolicy, { Name = "no" }), "job.restart")

    local mounts = host.Mounts
    if kind == "validate" then
        must(mounts == nil or (is_array(mounts) and #mounts == 0), "job.mounts")
        must(host.NetworkMode == "none", "job.networkmode")
        -- No endpoint anywhere. An empty NetworkingConfig ({} or {"EndpointsConfig":{}}) attaches
        -- nothing and is accepted; fta sends none.
        local networking = c.NetworkingConfig
        if networking ~= nil then
            must(is_object(networking), "job.endpoints")
            only_keys(networking, set("EndpointsConfig"), CONTAINER_NAMED, "ctr.key")
            local endpoints = networking.EndpointsConfig
            must(endpoints == nil or (is_object(endpoints) and next(endpoints) == nil), "job.endpoints")
        end
        return
    end
    must(is_array(mounts) and #mounts == 1 and is_object(mounts[1]), "job.mounts")
    local mount = mounts[1]
    only_keys(mount, set("Type", "Source", "Target", "ReadOnly"), CONTAINER_NAMED, "ctr.key")
    -- A backtest must say ReadOnly true (absent means writable); a download writes (false or absent).
    local access = (kind == "backtest" and mount.ReadOnly == true)
        or (kind == "download" and (mount.ReadOnly == nil or mount.ReadOnly == false))
    must(mount.Type == "volume" and id_after("fta-data-", mount.Source) and mount.Target == JOB_DATA and access,
        "job.mounts")
    check_client_network(c, host, "fta-client-" .. labels["fta.client"], "job.networkmode", "job.endpoints")
end

local NETWORK_NAMED = {}
for rule, keys in pairs({
    ["net.swarm"] = { "configfrom", "configonly", "ingress", "attachable", "scope" },
    ["net.ipam"] = { "ipam", "enableipv6" },
}) do
    for _, key in ipairs(keys) do NETWORK_NAMED[key] = rule end
end
local NETWORK_KEYS = set("CheckDuplicate", "Driver", "Internal", "Labels", "Name", "Options")

-- POST /networks/create: a client's network exactly as fta makes it.
local function check_network(n)
    only_keys(n, NETWORK_KEYS, NETWORK_NAMED, "net.key")
    local client = id_after("fta-client-", n.Name)
    must(client, "net.name")
    -- The engine checks the name only when asked (and only one create at a time: haproxy.cfg
    -- serialises them). A second network of an existing client's name makes that name ambiguous,
    -- and every start of that client's bots fails.
    must(n.CheckDuplicate == true, "net.checkduplicate")
    must(n.Driver == "bridge", "net.driver")
    -- An internal network has no route out: the client's bots could not reach their exchange.
    must(n.Internal == nil or n.Internal == false, "net.internal")
    must(exact_map(n.Labels, { ["fta.client"] = client, ["fta.managed"] = "true" }), "net.labels")
    must(exact_map(n.Options, { ["com.docker.network.bridge.enable_icc"] = "false" }), "net.options")
end

-- POST /volumes/create: a bot's volume or a data volume, exactly as fta makes them.
-- Their one driver option is their cap: `size`, which the local driver turns into an XFS project
-- quota (docs/security.md). type, device and o would mount anything (a bind of /, a share).
local MIN_VOLUME_MB, MAX_VOLUME_MB = 16, 8192
local VOLUME_KEYS = set("Driver", "DriverOpts", "Labels", "Name")
local VOLUME_NAMED = { driveropts = "vol.driveropts", clustervolumespec = "vol.driveropts" }

local function check_volume(v)
    only_keys(v, VOLUME_KEYS, VOLUME_NAMED, "vol.key")
    local bot, data = id_after("fta-bot-", v.Name), id_after("fta-data-", v.Name)
    must(bot or data, "vol.name")
    must(v.Driver == "local", "vol.driver")
    if bot then
        must(exact_map(v.Labels, { ["fta.bot"] = bot, ["fta.client"] = true, ["fta.managed"] = "true" })
            and is_id(v.Labels["fta.client"]), "vol.labels")
    else
        -- fta-data-<key>: the lab's shared candle cache for one exchange and timeframe. It belongs
        -- to no client and no bot, so its labels name neither, and a bot's labels cannot pass for
        -- it (nor its labels for a bot's).
        must(exact_map(v.Labels, { ["fta.data"] = data, ["fta.managed"] = "true" }), "vol.labels")
    end
    if v.DriverOpts ~= nil then
        must(exact_map(v.DriverOpts, { size = true }), "vol.driveropts")
        local mb = tonumber(string.match(v.DriverOpts.size, "^([1-9][0-9]*)m$") or "")
        must(mb ~= nil and mb >= MIN_VOLUME_MB and mb <= MAX_VOLUME_MB, "vol.size")
    end
end

local function verdict(txn)
    local route = txn:get_var("txn.route")
    local body = parse(txn.f:req_body() or "")
    if route == "ctr.create" then
        -- The route admits only ?name=fta-bot-<id>; the id is checked again all the same.
        local bot = id_after("fta-bot-", txn.f:url_param("name"))
        must(bot, "ctr.name")
        check_container(body, bot)
    elseif route == "job.create" then
        -- Likewise ?name=fta-job-<id> only.
        local job = id_after("fta-job-", txn.f:url_param("name"))
        must(job, "job.name")
        check_job(body, job)
    elseif route == "net.create" then
        check_network(body)
    elseif route == "vol.create" then
        check_volume(body)
    else
        refuse("body.unexpected")
    end
    return "ok"
end

core.register_action("fta_create_body", { "http-req" }, function(txn)
    local ok, result = pcall(verdict, txn)
    if ok then
        txn:set_var("txn.verdict", result)
    elseif type(result) == "table" and result.rule then
        txn:set_var("txn.verdict", result.rule)
    else
        -- A fault in this file, not in the body: still a denial. The message names the fault
        -- only (bodies carry bot secrets and are never logged).
        core.Alert("fta create-body check failed: " .. tostring(result))
        txn:set_var("txn.verdict", "body.check")
    end
end, 0)
