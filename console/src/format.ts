// Amounts arrive as decimal strings of yuan ("50000.00"); they are shown, never computed with
// as numbers, so a fen is never lost to floating point on the way to the screen.
export function yuan(amount: string | null | undefined): string {
  if (amount === null || amount === undefined || amount === '') return '—';
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount);
  if (!m) return amount;
  const grouped = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${m[1]}¥${grouped}.${(m[3] ?? '').padEnd(2, '0')}`;
}

const shanghai = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

/** Times are shown in Beijing time, the time every deadline and rule is stated in. */
export function beijingTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return shanghai.format(d).replace(/\//g, '-');
}

/** "2 天 3 小时" / "2 d 3 h" until a moment; negative once it has passed. */
export function countdown(iso: string, now: number, lang: 'zh' | 'en'): string {
  const ms = new Date(iso).getTime() - now;
  if (ms <= 0) return lang === 'zh' ? '已截止' : 'passed';
  const minutes = Math.floor(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (lang === 'zh') return d > 0 ? `${d} 天 ${h} 小时` : h > 0 ? `${h} 小时 ${m} 分` : `${m} 分钟`;
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
}
