import { expectIssues, expectValid, pipeline } from "../__tests__/harness";

describe("schedules: five-field cron, IANA time zones, at most 10, no repeats", () => {
  it("accepts common schedules", () => {
    expectValid(pipeline({ schedules: [] }));
    expectValid(
      pipeline({
        schedules: [
          { cron: "0 3 * * *", timezone: null },
          { cron: "*/15 9-17 * * 1-5", timezone: "Europe/Paris" },
          { cron: "0 0 1 * *", timezone: "America/New_York" },
        ],
      }),
    );
  });

  it("reports each bad field at its path", () => {
    expectIssues(
      pipeline({
        schedules: [
          { cron: "* * * * * *", timezone: null },
          { cron: "61 * * * *", timezone: "Mars/Olympus" },
          { cron: "0 3 * * *", timezone: null },
          { cron: "0  3 * * *", timezone: null },
        ],
      }),
      [
        {
          path: "schedules[0].cron",
          message:
            'cron "* * * * * *" must have five fields (minute hour day-of-month month day-of-week); it has 6.',
        },
        { path: "schedules[1].cron", message: expect.stringMatching(/^cron "61 \* \* \* \*" .+\.$/) },
        {
          path: "schedules[1].timezone",
          message: '"Mars/Olympus" is not an IANA time zone such as Europe/Paris.',
        },
        { path: "schedules[3]", message: "This schedule appears more than once." },
      ],
    );
  });

  it("allows at most 10", () => {
    const schedules = Array.from({ length: 11 }, (_, i) => ({ cron: `${i} 3 * * *`, timezone: null }));
    expectIssues(pipeline({ schedules }), [
      { path: "schedules", message: "A pipeline may have at most 10 schedules; it has 11." },
    ]);
  });
});
