import { describe, expect, it } from 'vitest';
import { metricUses } from '../helpers/metric-names.js';

describe('metricUses (PromQL metric names)', () => {
  const names = (expr: string) => metricUses(expr).map((use) => use.name);
  it('finds selectors and bare operands, not functions, keywords, label names, numbers or durations', () => {
    expect(names('histogram_quantile(0.99, sum by (le, route) (rate(x_seconds_bucket{route="a", le!="b"}[$__rate_interval])))')).toEqual(['x_seconds_bucket']);
    expect(names('60 * sum(rate(a_total{instance=~"${instance}"}[5m])) / b_gauge')).toEqual(['a_total', 'b_gauge']);
    expect(names('sum(rate(c_total[1m] offset 5m)) without (instance) > bool 1e3')).toEqual(['c_total']);
    expect(names('max(d) by (job) and on (job) group_left (version) e{}')).toEqual(['d', 'e']);
    expect(names('label_replace(f, "dst", "${1}", "src", "(.*)") or vigil_bare')).toEqual(['f', 'vigil_bare']);
    expect(names('sum(increase(g_total{instance=~"$instance"}[$__range])) + Inf - NaN')).toEqual(['g_total']);
  });
  it('tells what a selector matches on and whether rate()/increase() reads it', () => {
    expect(metricUses('sum(rate(a_total{instance=~"$instance", x="}"}[$__rate_interval])) + b{instance=~"$instance"}')).toEqual([
      { name: 'a_total', matchers: 'instance=~"$instance", x="}"', throughCounterFunction: true },
      { name: 'b', matchers: 'instance=~"$instance"', throughCounterFunction: false },
    ]);
  });
});
