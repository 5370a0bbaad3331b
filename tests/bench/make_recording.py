#!/usr/bin/env python3
"""Writes an NDJSON recording of N mixed upstream messages shaped like the reference payloads
(tests/fixtures/upstream): v1 releases/episodes/schedule items, every v3 frame type, a few
greetings. Every message is distinct, so each should become one event.
usage: make_recording.py N OUT [--recorded-at]"""
import copy, json, os, random, sys

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "fixtures", "upstream")
load = lambda name: json.load(open(os.path.join(fixtures, name), encoding="utf-8"))
v1_live, v1_openapi = load("v1_release_latest_live.json"), load("v1_release_latest_openapi.json")
v3_title = load("v3_title_update.json")

def v1_release(i):
    r = copy.deepcopy(v1_live if i % 2 else v1_openapi)
    r["id"] = 1000 + i % 5000
    r["alias"] = f"title-{r['id']}"
    r["fresh_at"] = f"2025-01-{1 + i % 28:02d}T08:{i % 60:02d}:44+00:00"
    le = r["latest_episode"]
    le["id"] = f"{i:08x}-4854-49cb-90f3-44324c677361"
    le["ordinal"] = i % 24 + (0.5 if i % 17 == 0 else 0)
    return r

def v1_episode(i):
    e = copy.deepcopy(v1_openapi["latest_episode"])
    e["id"] = f"{i:08x}-598f-4b8b-b77e-188d3e456318"
    e["release_id"] = str(1000 + i % 5000)
    e["ordinal"] = i % 30
    return e

def v1_schedule(i):
    return {"release": v1_release(i), "full_season_is_released": False,
            "next_release_episode_number": i % 24 + 1, "published_release_episode": v1_episode(i)}

def v3(i):
    kind = i % 7
    tid = 1000 + i % 5000
    if kind == 0:
        t = copy.deepcopy(v3_title)
        t["data"]["title"]["id"] = tid
        t["data"]["title"]["last_change"] = 1671901871 + i
        return t
    if kind == 1:
        return {"type": "playlist_update", "data": {"id": tid, "player": {"host": "cache.libria.fun"},
                "updated_episode": {"episode": i % 24, "name": None, "uuid": f"{i:08x}-789e-11ec-ae92-0242ac120002",
                                    "created_timestamp": 1624983774 + i, "hls": {"fhd": f"/v/{tid}/{i}/1080.m3u8", "hd": None, "sd": None}},
                "episode": str(i % 24), "diff": {}, "reupload": i % 5 == 0}}
    if kind in (2, 3, 4):
        name = ["encode_start", "encode_progress", "encode_end"][kind - 2]
        d = {"id": str(tid), "episode": str(i % 24), "resolution": "1080", "quality": "fhd"}
        if name == "encode_start": d["isReupload"] = False
        if name == "encode_progress": d["encoded_percent"] = str(5 * (i % 20))
        d["episode"] = str(i)  # distinct per message
        return {"type": name, "data": d}
    if kind == 5:
        return {"type": "encode_finish", "data": {"id": str(tid), "episode": str(i)}}
    return {"type": "torrent_update", "data": {"id": str(tid), "updated_torrent_id": 19973 + i,
            "torrents": {"list": [{"torrent_id": 19973 + i, "episodes": {"string": "1-12"}, "quality": {"string": "WEBRip 1080p"}}]}}}

def message(i):
    r = i % 10
    if r < 3: return v1_release(i)
    if r == 3: return v1_episode(i)
    if r == 4: return v1_schedule(i)
    return v3(i)

def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    recorded = "--recorded-at" in sys.argv
    random.seed(7)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            m = message(i)
            if recorded:
                m = {"recorded_at": f"2025-01-16T08:{(i // 60) % 60:02d}:{i % 60:02d}Z", "message": m}
            f.write(json.dumps(m, ensure_ascii=False, separators=(",", ":")) + "\n")

if __name__ == "__main__":
    main()
