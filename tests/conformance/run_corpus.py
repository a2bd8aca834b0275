#!/usr/bin/env python3
"""nDPI corpus conformance suite for wiretally.

Runs `wiretally analyze CAPTURE --flows OUT.jsonl --format json` over the nDPI regression captures
(CORPUS/pcap/*), matches our flows to nDPI's expected flows (CORPUS/expected/NAME.jsonl) and compares
per field.  Prints a table (field, compared, agreed, excepted, percent, threshold) plus crash/hang counts,
writes every disagreement to a details file, and exits 0 only if every threshold holds and nothing
crashed or hung (unless --report-only).

Matching (see NOTES.md):
  * key = (protocol, unordered {(addr, port), (addr, port)}, vlan); ports are ignored for protocols other
    than TCP/UDP; addresses are normalised with the ipaddress module; nDPI's missing vlan means 0.
    If a key has no partner with the vlan, it is retried without the vlan (QinQ captures may disagree on
    which tag is "outer").
  * nDPI never emits two flows for one key in this corpus (ndpiReader keys flows by 5-tuple+vlan and does
    not split), but we may (idle timeouts, TCP reuse).  All of our flows with the key form ONE merged flow:
    packet counts are summed per direction (directions mapped by endpoint), and each string field is taken
    from the earliest of our flows (by ts_first) that has a value.  If nDPI itself has several flows for a
    key they are paired in file order with our flows in ts_first order, the last nDPI flow taking the rest.
  * An nDPI flow without a partner counts as compared-and-disagreed for every field it has (ours = null).

Fields compared only where nDPI has a value, and only for flows whose nDPI master protocol is in scope
(SCOPE below: e.g. DTLS, MDNS, NetBIOS names are not something wiretally extracts).  Exceptions
(exceptions.toml) turn a disagreement into "excepted" (agreed with a reason) when they match the capture,
the flow endpoints and the field, and (if given) our value equals the exception's `correct` value.
"""
from __future__ import annotations

import re
import argparse
import concurrent.futures
import fnmatch
import ipaddress
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'support'))
import wt_skips  # noqa: E402

try:
    import tomllib  # Python 3.11+
except ImportError:  # pragma: no cover
    tomllib = None

# nDPI master protocols (first part of `ndpi_proto`) for which each field is compared.
TLS_MASTERS = {'TLS', 'IMAPS', 'POPS', 'SMTPS', 'FTPS', 'DoH_DoT'}
NAME_MASTERS = TLS_MASTERS | {'QUIC', 'HTTP', 'HTTP_Proxy', 'DNS'}
SCOPE = {
    'name': NAME_MASTERS,
    'alpn': TLS_MASTERS | {'QUIC'},
    'tls_version': TLS_MASTERS | {'QUIC'},
    'tls_version_no_sh': TLS_MASTERS | {'QUIC'},
    'cipher': TLS_MASTERS,
    'ja4': TLS_MASTERS | {'QUIC'},
    'quic_version': {'QUIC'},
    'supported_versions': TLS_MASTERS | {'QUIC'},
    'ech': TLS_MASTERS | {'QUIC'},
    'packets': None,  # every flow
}
# Percent thresholds; None = reported only.
THRESHOLDS = {
    'name': 99.0, 'alpn': 99.0, 'tls_version': 97.0, 'tls_version_no_sh': None, 'cipher': 98.0,
    'ja4': 97.0, 'quic_version': 97.0, 'supported_versions': None, 'ech': None, 'packets': 99.0,
}
FIELDS = list(THRESHOLDS)
# nDPI's Hostname/SNI buffer holds 79 characters (host_server_name[80]); a longer name keeps its LAST 79
# characters.  nDPI lower-cases names and replaces characters that are not valid in host names ('*', '=',
# non-printables shown as '?') with '_'.  name_key() applies the same folding to both sides.
NDPI_NAME_MAX = 79
_NAME_OK = set('abcdefghijklmnopqrstuvwxyz0123456789.-')


_DNS_ESCAPE = re.compile(r'\\(\d{3}|.)')


def name_key(s: str) -> str:
    # wiretally writes a byte that is not printable in a DNS label as dig does (\DDD, and \. or \\
    # for a literal dot or backslash inside a label); nDPI shows it as '?'. Both are one character.
    s = _DNS_ESCAPE.sub('_', str(s).lower())
    return ''.join(c if c in _NAME_OK else '_' for c in s)

PROTO_ALIASES = {
    '1': 'icmp', '2': 'igmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6', '50': 'esp', '47': 'gre',
    '103': 'pim', '112': 'vrrp', '113': 'pgm', '132': 'sctp', 'icmp6': 'icmpv6', 'ipv6-icmp': 'icmpv6',
}


def norm_proto(p) -> str:
    p = str(p).lower()
    return PROTO_ALIASES.get(p, p)


def norm_addr(a) -> str:
    if a is None:
        return ''
    a = str(a).strip('[]')
    try:
        return ipaddress.ip_address(a).compressed
    except ValueError:
        return a


def addr_candidates(a: str):
    """nDPI's IPv6 printer sometimes writes two '::' (e.g. 2600:1900:4160:5999::19:: for
    2600:1900:4160:5999:0:19::).  Return every valid address such a string can stand for."""
    if a.count('::') < 2:
        return []
    pieces = a.split('::')
    groups = [p.split(':') if p else [] for p in pieces]
    present = sum(len(g) for g in groups)
    gaps = len(pieces) - 1
    out = []

    def spread(i, left, acc):
        if i == gaps - 1:
            if left >= 1:
                acc = acc + [left]
                flat = list(groups[0])
                for k in range(gaps):
                    flat += ['0'] * acc[k] + groups[k + 1]
                try:
                    out.append(ipaddress.ip_address(':'.join(flat)).compressed)
                except ValueError:
                    pass
            return
        for n in range(1, left):
            spread(i + 1, left - n, acc + [n])

    if 0 < gaps <= 3 and present < 8:
        spread(0, 8 - present, [])
    return out


def endpoint(proto, addr, port):
    return (norm_addr(addr), int(port or 0) if proto in ('tcp', 'udp', 'sctp') else 0)


def flow_key(proto, ep1, ep2, vlan):
    try:
        vlan = int(vlan or 0)
    except (TypeError, ValueError):
        vlan = 0
    return (proto, frozenset((ep1, ep2)), vlan)


def flow_str(proto, ep1, ep2, vlan):
    s = f'{proto} {ep1[0]}:{ep1[1]} <-> {ep2[0]}:{ep2[1]}'
    return s + (f' vlan {vlan}' if vlan else '')


# ---------------------------------------------------------------- running the binary

def classify_run(rc, stderr, timed_out):
    """Returns one of ok, hang, crash, rejected, error."""
    if timed_out:
        return 'hang'
    if rc is not None and rc < 0:
        return 'crash'  # killed by a signal
    if any(m in stderr for m in ('AddressSanitizer', 'runtime error:', 'LeakSanitizer', 'Segmentation fault',
                                 'terminate called', 'Assertion')):
        return 'crash'
    if rc == 0:
        return 'ok'
    if rc > 128:
        return 'crash'  # a shell reporting a signal
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    return 'rejected' if len(lines) == 1 else 'error'


def run_one(cmd_template, pcap, flows_out, timeout):
    cmd = [a.replace('{pcap}', pcap).replace('{flows}', flows_out) for a in cmd_template]
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        return {'status': 'error', 'rc': None, 'stderr': str(e), 'secs': 0.0}
    timed_out = False
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # our own child's process group only
        except ProcessLookupError:
            pass
        _, err = proc.communicate()
    err = err.decode('utf-8', 'replace')
    status = classify_run(proc.returncode, err, timed_out)
    return {'status': status, 'rc': proc.returncode, 'stderr': err[-2000:], 'secs': time.monotonic() - t0}


def load_jsonl(path):
    out = []
    with open(path, encoding='utf-8', errors='replace') as f:
        for ln in f:
            ln = ln.strip()
            if ln:
                out.append(json.loads(ln))
    return out


# ---------------------------------------------------------------- our flows -> comparable values

def ours_values(flows, ndpi_a, ndpi_b=None):
    """Merge our flows that share one nDPI key; returns field -> value (None when absent).
    ndpi_a is nDPI's `a` endpoint, used to map packet directions."""
    flows = sorted(flows, key=lambda f: f.get('ts_first') or 0)
    a2b = b2a = 0
    for f in flows:
        proto = norm_proto(f.get('proto', ''))
        client = endpoint(proto, f.get('client'), f.get('client_port'))
        up, down = int(f.get('pkts_up') or 0), int(f.get('pkts_down') or 0)
        if ndpi_b is not None and ndpi_a == ndpi_b:
            a2b += up + down  # both endpoints equal: no direction to map, compare totals
        elif client == ndpi_a:
            a2b, b2a = a2b + up, b2a + down
        else:
            a2b, b2a = a2b + down, b2a + up

    def first(getter):
        for f in flows:
            try:
                v = getter(f)
            except (KeyError, TypeError, AttributeError):
                v = None
            if v not in (None, '', []):
                return v
        return None

    tls = lambda f: f.get('tls') or {}
    return {
        '_sni': first(lambda f: f.get('sni')),
        'name': first(lambda f: f.get('name')),
        'alpn': first(lambda f: tls(f).get('alpn')),
        'tls_version': first(lambda f: tls(f).get('version')),
        'tls_version_no_sh': first(lambda f: tls(f).get('version')),
        'cipher': first(lambda f: tls(f).get('cipher')),
        'ja4': first(lambda f: tls(f).get('ja4')),
        'quic_version': first(lambda f: (f.get('quic') or {}).get('version')),
        'supported_versions': first(lambda f: tls(f).get('supported_versions')),
        # nDPI reports the extension's presence; tls.ech says what it was ("none" when absent).
        'ech': bool(first(lambda f: tls(f).get('ech') not in (None, False, 'none'))),
        'packets': [a2b, b2a] if flows else None,
    }


def ndpi_values(e):
    """field -> nDPI value for the fields nDPI has (in scope), else absent."""
    master = (e.get('ndpi_proto') or '').split('.')[0]
    v = {}

    def put(field, value):
        scope = SCOPE[field]
        if value is not None and (scope is None or master in scope):
            v[field] = value

    put('name', e.get('name'))
    put('alpn', e.get('alpn'))
    if 'tls_version' in e:
        put('tls_version' if 'cipher' in e else 'tls_version_no_sh', e['tls_version'])
    put('cipher', e.get('cipher'))
    put('ja4', e.get('ja4'))
    put('quic_version', e.get('quic_version'))
    put('supported_versions', e.get('tls_supported_versions'))
    if 'ja4' in e:  # nDPI saw a ClientHello: ECH presence is then meaningful either way
        put('ech', 'ech' in e)
    put('packets', [e.get('pkts_a2b', 0), e.get('pkts_b2a', 0)])
    return v, master


def ndpi_ja4_dialect(ja4, sni, alpns):
    """Our (FoxIO-spec) JA4 rewritten the way nDPI 4.x prints it; None if ja4 is not a JA4 string.
    Measured on all 636 JA4 flows of the corpus (see NOTES.md):
      * SNI flag: nDPI writes 'i' only when the SNI is an IP literal, else 'd' (even without an SNI
        extension); the spec says 'd' when the server_name extension is present, 'i' otherwise.
      * ALPN chars: nDPI takes the first two characters of the ALPN list joined with ',' ("http/1.1" -> "ht",
        "hq-29" -> "hq"), and first char + '0' when that string is 2 characters long ("h3" -> "h0");
        the spec takes the first and last character of the first value ("h1", "h9", "h3").
      * No extensions: nDPI hashes the empty string (e3b0c44298fc), the spec writes 000000000000."""
    parts = str(ja4).split('_')
    if len(parts) != 3 or len(parts[0]) != 10:
        return None
    a, b, c = parts
    try:
        ipaddress.ip_address(str(sni or '').strip('[]'))
        sni_flag = 'i'
    except ValueError:
        sni_flag = 'd'
    joined = ','.join(alpns or [])
    if not joined:
        al = '00'
    elif len(joined) > 2:
        al = joined[:2]
    else:
        al = joined[0] + '0'
    if a[6:8] == '00' and c == '000000000000':
        c = 'e3b0c44298fc'
    return f'{a[:3]}{sni_flag}{a[4:8]}{al}_{b}_{c}'


def agree(field, ours, theirs):
    if field == 'tls_version_no_sh':
        # nDPI saw no ServerHello and reports the ClientHello's legacy version; we report only a negotiated
        # version: agreement means we did not claim one either.  A value here means we saw a ServerHello
        # that nDPI did not (worth a look: nDPI stops after its DPI packet budget).
        return ours is None
    if ours is None:
        return False
    if field == 'name':
        o, t = name_key(ours), name_key(theirs)
        if len(t) == NDPI_NAME_MAX and len(o) > NDPI_NAME_MAX:
            o = o[-NDPI_NAME_MAX:]
        return o == t
    return ours == theirs


# ---------------------------------------------------------------- per capture comparison

def compare_capture(name, ndpi_flows, our_flows, exceptions):
    """Returns (counts, details, extra_ours). counts: field -> [compared, agreed, excepted]."""
    counts = {f: [0, 0, 0] for f in FIELDS}
    details = []
    ours_by_key, ours_by_key_novlan = {}, {}
    for f in our_flows:
        proto = norm_proto(f.get('proto', ''))
        c = endpoint(proto, f.get('client'), f.get('client_port'))
        s = endpoint(proto, f.get('server'), f.get('server_port'))
        ours_by_key.setdefault(flow_key(proto, c, s, f.get('vlan')), []).append(f)
        ours_by_key_novlan.setdefault(flow_key(proto, c, s, 0), []).append(f)
    used = set()

    # group nDPI flows by key (normally one each)
    groups = {}
    for e in ndpi_flows:
        proto = norm_proto(e.get('proto', ''))
        a = endpoint(proto, e.get('a'), e.get('a_port'))
        b = endpoint(proto, e.get('b'), e.get('b_port'))
        groups.setdefault(flow_key(proto, a, b, e.get('vlan')), []).append((e, proto, a, b))

    for key, members in groups.items():
        # exact key, then without the vlan (QinQ: nDPI keeps the innermost tag), then nDPI's broken IPv6 text
        mine = ours_by_key.get(key) or ours_by_key_novlan.get((key[0], key[1], 0))
        if not mine:
            eps = list(key[1]) if len(key[1]) == 2 else list(key[1]) * 2
            c0 = addr_candidates(eps[0][0]) or [eps[0][0]]
            c1 = addr_candidates(eps[1][0]) or [eps[1][0]]
            for x in c0:
                for y in c1:
                    alt = (key[0], frozenset(((x, eps[0][1]), (y, eps[1][1]))), 0)
                    mine = mine or ours_by_key_novlan.get(alt)
        mine = [f for f in (mine or []) if id(f) not in used]
        mine.sort(key=lambda f: f.get('ts_first') or 0)
        for f in mine:
            used.add(id(f))
        # split our flows among the nDPI members: one each in order, the last takes the rest
        parts = []
        for i in range(len(members)):
            if i < len(members) - 1:
                parts.append(mine[i:i + 1])
            else:
                parts.append(mine[i:])
        for (e, proto, a, b), part in zip(members, parts):
            nv, master = ndpi_values(e)
            ov = ours_values(part, a, b)
            if a == b and 'packets' in nv:
                nv['packets'] = [sum(nv['packets']), 0]
            fstr = flow_str(proto, a, b, key[2])
            for field, theirs in nv.items():
                c = counts[field]
                c[0] += 1
                ours = ov.get(field) if part else None
                if part and agree(field, ours, theirs):
                    c[1] += 1
                    continue
                exc = find_exception(exceptions, name, proto, a, b, field, ours)
                if exc is None and field == 'ja4' and ours is not None and \
                        ndpi_ja4_dialect(ours, ov.get('_sni'), ov.get('alpn')) == theirs:
                    exc = {'reason': 'nDPI JA4 dialect (SNI flag / ALPN chars / empty-extension hash)'}
                rec = {'capture': name, 'flow': fstr, 'ndpi_proto': e.get('ndpi_proto'), 'field': field,
                       'ours': ours, 'ndpi': theirs, 'matched': bool(part), 'our_flows': len(part)}
                if exc is not None:
                    c[2] += 1
                    rec['exception'] = exc.get('reason', '')
                details.append(rec)
    extra = [f for f in our_flows if id(f) not in used]
    return counts, details, extra


def load_exceptions(path):
    if not path or not os.path.exists(path):
        return []
    with open(path, 'rb') as f:
        if path.endswith('.json'):
            data = json.load(f)
        else:
            if tomllib is None:
                sys.exit('python >= 3.11 (tomllib) needed to read ' + path)
            data = tomllib.load(f)
    out = []
    for x in data.get('exception', []):
        for k in ('capture', 'flow', 'field', 'reason'):
            if k not in x:
                sys.exit(f'{path}: exception without {k}: {x}')
        # flow: "proto A:port <-> B:port" (either order)
        parts = x['flow'].split()
        proto = norm_proto(parts[0])
        eps = []
        for p in (parts[1], parts[3]):
            host, _, port = p.rpartition(':')
            eps.append(endpoint(proto, host, port))
        x = dict(x, _proto=proto, _eps=frozenset(eps))
        out.append(x)
    return out


def find_exception(exceptions, capture, proto, a, b, field, ours):
    for x in exceptions:
        if (x['capture'] == capture and x['field'] == field and x['_proto'] == proto
                and x['_eps'] == frozenset((a, b))):
            if 'correct' in x and x['correct'] != ours:
                continue
            x['_used'] = True
            return x
    return None


# ---------------------------------------------------------------- main

def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument('--binary', help='path to wiretally')
    g.add_argument('--binary-cmd', help='command template with {pcap} and {flows}, e.g. '
                   '"python3 tshark_flows.py {pcap} --flows {flows}"')
    ap.add_argument('--corpus', default=os.path.join(here, '..', '..', '..', 'shared', 'corpus', 'ndpi'),
                    help='the nDPI corpus (pcap/, expected/); absent: a documented skip (exit 77)')
    ap.add_argument('--filter', action='append', default=[],
                    help='glob on the capture name (repeatable; default all)')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--timeout', type=float, default=30.0)
    ap.add_argument('--details', default=os.path.join(tempfile.gettempdir(), 'wiretally-conformance-details.jsonl'),
                    help='disagreements (JSONL; default in the temporary directory, never the source tree)')
    ap.add_argument('--exceptions', default=os.path.join(here, 'exceptions.toml'))
    ap.add_argument('--keep-flows', help='directory to keep each capture\'s flows JSONL')
    ap.add_argument('--flows-dir', help='compare existing DIR/NAME.flows.jsonl (from --keep-flows) '
                    'instead of running anything')
    ap.add_argument('--summary-json', help='write the summary table as JSON here')
    ap.add_argument('--report-only', action='store_true', help='always exit 0')
    args = ap.parse_args()

    if not (args.binary or args.binary_cmd or args.flows_dir):
        ap.error('one of --binary, --binary-cmd, --flows-dir is required')
    if args.binary:
        template = [args.binary, 'analyze', '{pcap}', '--flows', '{flows}', '--format', 'json']
    else:
        template = shlex.split(args.binary_cmd or '')
    if not args.flows_dir:
        wt_skips.corpus_or_skip(args.corpus)
    pcap_dir = os.path.join(args.corpus, 'pcap')
    exp_dir = os.path.join(args.corpus, 'expected')
    names = sorted(os.listdir(pcap_dir))
    if args.filter:
        names = [n for n in names if any(fnmatch.fnmatch(n, p) or p == n for p in args.filter)]
    if not names:
        sys.exit('no capture matches')
    exceptions = load_exceptions(args.exceptions)

    tmp = tempfile.TemporaryDirectory(prefix='wt-conf-')
    flows_dir = args.keep_flows or tmp.name
    os.makedirs(flows_dir, exist_ok=True)

    def job(n):
        if args.flows_dir:
            return {'status': 'ok', 'rc': 0, 'stderr': '', 'secs': 0.0, 'name': n,
                    'out': os.path.join(args.flows_dir, n + '.flows.jsonl')}
        out = os.path.join(flows_dir, n + '.flows.jsonl')
        if os.path.exists(out):
            os.unlink(out)
        r = run_one(template, os.path.join(pcap_dir, n), out, args.timeout)
        r['name'] = n
        r['out'] = out
        return r

    t0 = time.monotonic()
    runs = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for r in ex.map(job, names):
            runs.append(r)

    totals = {f: [0, 0, 0] for f in FIELDS}
    by_status = {}
    extra_total = 0
    unmatched_ndpi = 0
    ndpi_total = 0
    rejected_flows = 0
    with open(args.details, 'w', encoding='utf-8') as det:
        for r in runs:
            if r['status'] == 'ok':
                try:
                    r['flows'] = load_jsonl(r['out'])
                except (OSError, ValueError) as e:
                    r['status'] = 'error'
                    r['stderr'] = f'bad or missing flows file: {e}'
            by_status.setdefault(r['status'], []).append(r)
            exp_path = os.path.join(exp_dir, r['name'] + '.jsonl')
            ndpi_flows = load_jsonl(exp_path) if os.path.exists(exp_path) else []
            ndpi_total += len(ndpi_flows)
            if r['status'] != 'ok':
                det.write(json.dumps({'capture': r['name'], 'run': r['status'], 'rc': r['rc'],
                                      'stderr': r['stderr'].strip()[-500:]}) + '\n')
            ours = []
            if r['status'] == 'rejected':
                # a capture we refuse on purpose (one-line error): its flows are not compared, only listed
                r['ndpi_flows'] = len(ndpi_flows)
                rejected_flows += len(ndpi_flows)
                continue
            if r['status'] == 'ok':
                ours = r.pop('flows')
            counts, details, extra = compare_capture(r['name'], ndpi_flows, ours, exceptions)
            for f in FIELDS:
                for i in range(3):
                    totals[f][i] += counts[f][i]
            for d in details:
                if not d['matched'] and d['field'] == 'packets':
                    unmatched_ndpi += 1
                det.write(json.dumps(d, sort_keys=True) + '\n')
            extra_total += len(extra)
    elapsed = time.monotonic() - t0

    ok = True
    print(f'{len(names)} captures in {elapsed:.0f} s; nDPI flows {ndpi_total}, unmatched nDPI flows '
          f'{unmatched_ndpi}, extra flows of ours {extra_total}, flows of rejected captures (not compared) '
          f'{rejected_flows}')
    print(f'{"field":<20} {"compared":>8} {"agreed":>8} {"excepted":>8} {"percent":>8} {"threshold":>9}  ')
    summary = {}
    for f in FIELDS:
        comp, agr, exc = totals[f]
        pct = 100.0 * (agr + exc) / comp if comp else 100.0
        thr = THRESHOLDS[f]
        verdict = ''
        if thr is not None:
            good = pct >= thr
            verdict = 'ok' if good else 'FAIL'
            ok &= good
        print(f'{f:<20} {comp:>8} {agr:>8} {exc:>8} {pct:>7.2f}% {("%.0f%%" % thr) if thr else "-":>9}  {verdict}')
        summary[f] = {'compared': comp, 'agreed': agr, 'excepted': exc, 'percent': round(pct, 3), 'threshold': thr}
    counts_by_status = {k: len(v) for k, v in sorted(by_status.items())}
    print('runs: ' + ', '.join(f'{k} {v}' for k, v in counts_by_status.items()))
    for st in ('crash', 'hang', 'error', 'rejected'):
        lst = by_status.get(st, [])
        if len(lst) > 25:
            print(f'  ({st}: showing 25 of {len(lst)}; all are in the details file)')
        for r in lst[:25]:
            msg = r['stderr'].strip().splitlines()[-1:] or ['']
            extra = f' ({r["ndpi_flows"]} nDPI flows not compared)' if st == 'rejected' else ''
            print(f'  {st}: {r["name"]} rc={r["rc"]}{extra} {msg[0][:150]}')
    if by_status.get('crash') or by_status.get('hang') or by_status.get('error'):
        ok = False
    unused = [x for x in exceptions if not x.get('_used')]
    if unused and not args.filter:
        print(f'note: {len(unused)} exception(s) not needed this run (we agree with nDPI or differ otherwise):')
        for x in unused:
            print(f'  {x["capture"]} {x["flow"]} {x["field"]}')
    print(f'details: {args.details}')
    if args.summary_json:
        with open(args.summary_json, 'w') as f:
            json.dump({'fields': summary, 'runs': counts_by_status, 'elapsed_s': round(elapsed, 1),
                       'extra_flows': extra_total, 'unmatched_ndpi_flows': unmatched_ndpi,
                       'rejected_flows': rejected_flows,
                       'problems': {st: [r['name'] for r in by_status.get(st, [])]
                                    for st in ('crash', 'hang', 'error', 'rejected')}}, f, indent=1)
    tmp.cleanup()
    print('PASS' if ok else 'FAIL')
    return 0 if ok or args.report_only else 1


if __name__ == '__main__':
    sys.exit(main())
