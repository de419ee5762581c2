import { parseJUnit } from "../../src/providers/junit";

describe("parseJUnit", () => {
  it("uses the suite's attributes when it lists no test cases", () => {
    expect(parseJUnit('<testsuite tests="10" failures="2" errors="1" skipped="3"/>')).toEqual({
      passed: 4,
      failed: 3,
      skipped: 3,
    });
  });

  it("counts nested suites and a bare <testsuites> root", () => {
    const xml = `<testsuites>
      <testsuite name="outer">
        <testsuite name="inner"><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>
        <testcase name="c"><skipped message="later"/></testcase>
      </testsuite>
    </testsuites>`;
    expect(parseJUnit(xml)).toEqual({ passed: 1, failed: 1, skipped: 1 });
    expect(parseJUnit('<testsuites tests="3" failures="1"></testsuites>')).toEqual({
      passed: 2,
      failed: 1,
      skipped: 0,
    });
  });

  it("refuses what is not a JUnit report", () => {
    expect(() => parseJUnit("<html><body/></html>")).toThrow(/no <testsuites> or <testsuite> element/);
    expect(() => parseJUnit("<testsuite><testcase></testsuite>")).toThrow(/invalid XML at line 1/);
  });
});
