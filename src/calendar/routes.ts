import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { actorOf } from '../registry/service';
import * as s from './schemas';
import { calendarCoverage, loadCalendarYears } from './service';

const tags = ['calendar'];

export const calendarRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/calendar', operationId: 'getCalendarCoverage',
    summary: 'How far ahead the R19 working-day calendar holds the official schedule, and the years loaded', tags,
    access: { roles: ['centre', 'auditor'] }, response: s.calendarOut,
    handler: async ({ tx, deps }) => calendarCoverage(tx, deps.tables),
  }),
  defineRoute({
    method: 'post', path: '/v1/calendar', operationId: 'loadCalendarYears',
    summary: "Load a year's holidays and make-up working days (R19); every process uses it within a minute", tags,
    access: { roles: ['centre'] }, body: s.calendarTableIn, response: s.calendarOut,
    handler: async ({ tx, deps, caller, body }) => {
      const { tables } = await loadCalendarYears(transactionOf(tx), deps.tables, { json: body, source: 'api', actor: actorOf(caller) });
      return calendarCoverage(tx, tables);
    },
  }),
];
