#!/usr/bin/env python3
"""Unit tests of the conformance harness's comparison logic (no corpus, no binary needed)."""
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_corpus as rc  # noqa: E402


def ndpi(**kw):
    e = {'proto': 'tcp', 'a': '10.0.0.1', 'a_port': 40000, 'b': '10.0.0.2', 'b_port': 443,
         'ndpi_proto': 'TLS', 'pkts_a2b': 3, 'pkts_b2a': 2}
    e.update(kw)
    return e


def ours(**kw):
    f = {'proto': 'tcp', 'client': '10.0.0.1', 'client_port': 40000, 'server': '10.0.0.2', 'server_port': 443,
         'vlan': 0, 'pkts_up': 3, 'pkts_down': 2, 'ts_first': 1.0}
    f.update(kw)
    return f


class Harness(unittest.TestCase):
    def test_classify_run(self):
        self.assertEqual(rc.classify_run(0, '', False), 'ok')
        self.assertEqual(rc.classify_run(-11, '', False), 'crash')
        self.assertEqual(rc.classify_run(None, '', True), 'hang')
        self.assertEqual(rc.classify_run(1, '==1==ERROR: AddressSanitizer: heap-buffer-overflow\n', False), 'crash')
        self.assertEqual(rc.classify_run(2, 'error: unsupported link type\n', False), 'rejected')
        self.assertEqual(rc.classify_run(1, 'a\nb\n', False), 'error')
        self.assertEqual(rc.classify_run(139, 'x', False), 'crash')

    def test_name_folding(self):
        self.assertTrue(rc.agree('name', 'WWW.Example.ORG', 'www.example.org'))
        self.assertTrue(rc.agree('name', '*.teams.microsoft.com', '_.teams.microsoft.com'))
        long_name = 'a' * 30 + '.' + 'b' * 60 + '.example'
        self.assertTrue(rc.agree('name', long_name, long_name[-79:]))
        self.assertFalse(rc.agree('name', long_name, long_name[:79]))
        self.assertFalse(rc.agree('name', None, 'x'))

    def test_name_folding_treats_dns_escapes_as_one_character(self):
        # nDPI prints a non-printable label byte as '?', wiretally as dig's \DDD: the same name.
        self.assertEqual(rc.name_key('ftp.ecite\\236e.com'), rc.name_key('ftp.ecite?e.com'))
        self.assertEqual(rc.name_key('a\\.b.example'), rc.name_key('a?b.example'))
        self.assertNotEqual(rc.name_key('ftp.ecite\\236e.com'), rc.name_key('ftp.ecitee.com'))

    def test_ja4_dialect(self):
        spec = 't13d1516h1_8daaf6152771_e5627efa2ab1'
        self.assertEqual(rc.ndpi_ja4_dialect(spec, 'example.org', ['http/1.1']),
                         't13d1516ht_8daaf6152771_e5627efa2ab1')
        self.assertEqual(rc.ndpi_ja4_dialect('q13d0311h3_55b375c5d22e_5a1f323ef56d', 'meet.google.com', ['h3']),
                         'q13d0311h0_55b375c5d22e_5a1f323ef56d')
        self.assertEqual(rc.ndpi_ja4_dialect('t12i2207h2_0d4ca5d4ec72_3304d8368043', '', ['h2', 'http/1.1']),
                         't12d2207h2_0d4ca5d4ec72_3304d8368043')
        self.assertEqual(rc.ndpi_ja4_dialect('t12d220700_0d4ca5d4ec72_3304d8368043', '82.81.46.13', []),
                         't12i220700_0d4ca5d4ec72_3304d8368043')
        self.assertEqual(rc.ndpi_ja4_dialect('t10i660000_1ade43d4e5bc_000000000000', '', None),
                         't10d660000_1ade43d4e5bc_e3b0c44298fc')
        self.assertIsNone(rc.ndpi_ja4_dialect('garbage', '', None))

    def test_addr_candidates(self):
        self.assertIn('2600:1900:4160:5999:0:19::', rc.addr_candidates('2600:1900:4160:5999::19::'))
        self.assertEqual(rc.addr_candidates('::1'), [])

    def test_match_and_direction(self):
        e = ndpi(a='10.0.0.2', a_port=443, b='10.0.0.1', b_port=40000, pkts_a2b=2, pkts_b2a=3)
        counts, details, extra = rc.compare_capture('x', [e], [ours()], [])
        self.assertEqual(counts['packets'], [1, 1, 0])
        self.assertEqual(details, [])
        self.assertEqual(extra, [])

    def test_split_flows_are_merged(self):
        e = ndpi(name='a.example', pkts_a2b=5, pkts_b2a=4)
        mine = [ours(ts_first=2.0, pkts_up=2, pkts_down=2),
                ours(ts_first=1.0, pkts_up=3, pkts_down=2, name='a.example')]
        counts, details, _ = rc.compare_capture('x', [e], mine, [])
        self.assertEqual(counts['packets'], [1, 1, 0])
        self.assertEqual(counts['name'], [1, 1, 0])

    def test_vlan_fallback_and_missing_flow(self):
        e1 = ndpi(vlan=113)
        e2 = ndpi(a_port=40001, name='b.example')
        counts, details, _ = rc.compare_capture('x', [e1, e2], [ours(vlan=3394)], [])
        self.assertEqual(counts['packets'], [2, 1, 0])
        self.assertEqual(counts['name'], [1, 0, 0])
        self.assertEqual({d['field'] for d in details}, {'packets', 'name'})
        self.assertTrue(all(not d['matched'] for d in details))

    def test_scope_and_tls_version(self):
        e = ndpi(ndpi_proto='MDNS', name='printer.local')
        counts, _, _ = rc.compare_capture('x', [e], [ours()], [])
        self.assertEqual(counts['name'], [0, 0, 0])
        e = ndpi(tls_version='TLSv1.2')  # no cipher: no ServerHello seen by nDPI
        counts, _, _ = rc.compare_capture('x', [e], [ours(tls={'alpn': []})], [])
        self.assertEqual(counts['tls_version'], [0, 0, 0])
        self.assertEqual(counts['tls_version_no_sh'], [1, 1, 0])
        e = ndpi(tls_version='TLSv1.2', cipher='TLS_RSA_WITH_AES_128_CBC_SHA')
        counts, _, _ = rc.compare_capture('x', [e], [ours(tls={'version': 'TLSv1.2',
                                                               'cipher': 'TLS_RSA_WITH_AES_128_CBC_SHA'})], [])
        self.assertEqual(counts['tls_version'], [1, 1, 0])
        self.assertEqual(counts['cipher'], [1, 1, 0])

    def test_exception(self):
        exc = [{'capture': 'x', 'flow': 'tcp 10.0.0.2:443 <-> 10.0.0.1:40000', 'field': 'tls_version',
                'correct': 'TLSv1', 'reason': 'r'}]
        path = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'wt_conf_test_exc.json')
        import json
        with open(path, 'w') as f:
            json.dump({'exception': exc}, f)
        loaded = rc.load_exceptions(path)
        os.unlink(path)
        e = ndpi(tls_version='TLSv1.2', cipher='TLS_RSA_WITH_AES_128_CBC_SHA')
        counts, details, _ = rc.compare_capture('x', [e], [ours(tls={'version': 'TLSv1'})], loaded)
        self.assertEqual(counts['tls_version'], [1, 0, 1])
        self.assertEqual(details[0]['exception'], 'r')
        counts, _, _ = rc.compare_capture('x', [e], [ours(tls={'version': 'TLSv1.1'})], loaded)
        self.assertEqual(counts['tls_version'], [1, 0, 0])  # `correct` must match

    def test_exceptions_file_parses(self):
        here = os.path.dirname(os.path.abspath(__file__))
        for x in rc.load_exceptions(os.path.join(here, 'exceptions.toml')):
            self.assertIn(x['field'], rc.FIELDS)


if __name__ == '__main__':
    unittest.main()
