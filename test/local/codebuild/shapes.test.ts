import { describe, expect, it } from 'vitest';
import { eventTime } from '../../../local/services/codebuild/shapes';

/** The times in the local CodeBuild's EventBridge events are written as CodeBuild writes them. */

describe("CodeBuild events' times", () => {
  it.each([
    ['2017-09-01T16:12:29.000Z', 'Sep 1, 2017 4:12:29 PM'],
    ['2026-01-05T00:00:07.900Z', 'Jan 5, 2026 12:00:07 AM'],
    ['2026-12-31T12:59:59.000Z', 'Dec 31, 2026 12:59:59 PM'],
    ['2026-05-20T09:03:00.000Z', 'May 20, 2026 9:03:00 AM'],
  ])('writes %s as "%s", in UTC', (iso, expected) => {
    // Act
    const written = eventTime(Date.parse(iso));

    // Assess
    expect(written).toBe(expected);
    const month = new Date(iso).toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
    expect(written.startsWith(`${month} `)).toBe(true);
  });
});
