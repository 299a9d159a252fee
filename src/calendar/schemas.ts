import { z } from 'zod';
import { calendarEntriesMax } from '../domain/calendar';
import { isoDate } from '../http/schemas';
import { calendarYearsPerLoadMax } from './service';

export const calendarTableIn = z.strictObject({
  years: z.array(z.number().int().min(2000).max(2100)).min(1).max(calendarYearsPerLoadMax),
  holidays: z.array(isoDate).max(calendarEntriesMax),
  makeupWorkdays: z.array(isoDate).max(calendarEntriesMax),
  comment: z.string().max(1000).optional(),
});

export const calendarOut = z.object({
  object: z.literal('calendar'),
  today: isoDate,
  coveredThrough: isoDate.nullable(),
  daysCoveredAhead: z.number().int(),
  years: z.array(z.number().int()),
  storedYears: z.array(z.object({ year: z.number().int(), source: z.string(), loadedBy: z.string(), loadedAt: z.string() })),
});
