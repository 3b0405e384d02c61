#!/usr/bin/env python3
"""prom_check.py FILE: checks a Prometheus text exposition (format 0.0.4) the
way `promtool check metrics` does for what lienthong writes, and prints its
samples as JSON lines {"name", "labels", "value"} for the tests to query.

Checked: every family has # HELP then # TYPE (counter, gauge or histogram)
before its samples and appears once; names match [a-zA-Z_:][a-zA-Z0-9_:]*
and start lienthong_; counters end _total; label sets parse and are unique
per series; values are floats; a histogram's buckets are cumulative, end
with le="+Inf" equal to its _count, and have a _sum. Exits 1 with the
problems listed otherwise."""
import json
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
SAMPLE = re.compile(r'^(' + NAME + r')(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def labels_of(text):
    out, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            raise ValueError('bad label set {%s}' % text)
        if m.group(1) in out:
            raise ValueError('label %s twice' % m.group(1))
        out[m.group(1)] = m.group(2)
        pos = m.end()
    return out


def main(path):
    problems, helps, types, seen, samples = [], {}, {}, set(), []
    family = None
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if line.startswith('# HELP '):
            name = line.split(' ')[2]
            if name in helps:
                problems.append('%d: family %s described twice' % (n, name))
            helps[name] = n
            family = name
            continue
        if line.startswith('# TYPE '):
            parts = line.split(' ')
            if len(parts) != 4 or parts[3] not in ('counter', 'gauge', 'histogram'):
                problems.append('%d: bad TYPE line' % n)
            elif parts[2] != family:
                problems.append('%d: TYPE of %s not right after its HELP' % (n, parts[2]))
            else:
                types[parts[2]] = parts[3]
            continue
        if not line or line.startswith('#'):
            problems.append('%d: unexpected line %r' % (n, line))
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append('%d: not a sample: %r' % (n, line))
            continue
        name, lab, value = m.group(1), m.group(3) or '', m.group(4)
        base = re.sub(r'_(bucket|sum|count)$', '', name) if types.get(family) == 'histogram' else name
        if base != family or family not in types:
            problems.append('%d: sample %s outside its family (HELP/TYPE first)' % (n, name))
        if not name.startswith('lienthong_'):
            problems.append('%d: %s lacks the lienthong_ prefix' % (n, name))
        if types.get(family) == 'counter' and not name.endswith('_total'):
            problems.append('%d: counter %s does not end in _total' % (n, name))
        try:
            labels = labels_of(lab)
            v = float(value)
        except ValueError as e:
            problems.append('%d: %s' % (n, e))
            continue
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            problems.append('%d: series %s%s twice' % (n, name, labels))
        seen.add(key)
        samples.append({'name': name, 'labels': labels, 'value': v})
    for fam, t in types.items():
        if t != 'histogram':
            continue
        series = {}
        for s in samples:
            if s['name'] == fam + '_bucket':
                rest = tuple(sorted((k, v) for k, v in s['labels'].items() if k != 'le'))
                series.setdefault(rest, []).append((s['labels'].get('le'), s['value']))
        for rest, buckets in series.items():
            vals = [v for _, v in buckets]
            if vals != sorted(vals):
                problems.append('%s%s: buckets not cumulative' % (fam, dict(rest)))
            if buckets[-1][0] != '+Inf':
                problems.append('%s%s: last bucket is not le="+Inf"' % (fam, dict(rest)))
            count = [s['value'] for s in samples if s['name'] == fam + '_count'
                     and tuple(sorted(s['labels'].items())) == rest]
            total = [s for s in samples if s['name'] == fam + '_sum'
                     and tuple(sorted(s['labels'].items())) == rest]
            if count != [buckets[-1][1]] or len(total) != 1:
                problems.append('%s%s: _count or _sum missing or unequal to +Inf' % (fam, dict(rest)))
    if problems:
        print('\n'.join(problems), file=sys.stderr)
        return 1
    for s in samples:
        print(json.dumps(s))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
