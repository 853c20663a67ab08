import { describe, expect, it } from 'vitest';
import { junitFailures } from '../../../core/status/junit';

/** Test failures from JUnit reports, for check run annotations at file and line (ADR 0091). */

describe('junitFailures', () => {
  it('reads the file and line of a failed test case, and its message', () => {
    const xml = `<?xml version="1.0"?>
<testsuites><testsuite name="basket" tests="2" failures="1">
  <testcase classname="basket" name="adds an item" file="./services/api/basket.test.ts" line="12" time="0.01">
    <failure message="expected 2 to be 3" type="AssertionError">AssertionError: expected 2 to be 3
    at services/api/basket.test.ts:14:7</failure>
  </testcase>
  <testcase classname="basket" name="empties" file="services/api/basket.test.ts" line="20"/>
</testsuite></testsuites>`;
    expect(junitFailures(xml)).toEqual([
      { path: 'services/api/basket.test.ts', line: 12, message: 'expected 2 to be 3', title: 'basket.adds an item' },
    ]);
  });

  it("finds the place in the failure's stack when the test case names none, skipping dependencies", () => {
    const xml = `<testsuite><testcase classname="tests.test_orders" name="test_total">
<error message="KeyError: &apos;total&apos;"><![CDATA[Traceback:
  File "node_modules/lib/index.js:3", in x
  app/orders.py:41: KeyError]]></error></testcase></testsuite>`;
    expect(junitFailures(xml)).toEqual([
      { path: 'app/orders.py', line: 41, message: "KeyError: 'total'", title: 'tests.test_orders.test_total' },
    ]);
  });

  it('leaves out a failure with no place, and passes', () => {
    const xml = `<testsuite><testcase name="greets" classname="hello"><failure message="broken"/></testcase>
<testcase name="ok" classname="hello"/></testsuite>`;
    expect(junitFailures(xml)).toEqual([]);
  });
});
