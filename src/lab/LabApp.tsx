/**
 * The lab: six lessons, each its own page under /lab, each a short text and a live figure computed
 * by the tool's own core functions. Every control lives in the URL; `?embed=1` shows the figure alone.
 */
import { onLinkClick } from '../ui/route';
import { FormatsLesson } from './lessons/Formats';
import { FormsLesson } from './lessons/Forms';
import { GranularityLesson } from './lessons/Granularity';
import { MappingLesson } from './lessons/Mapping';
import { PtqQatLesson } from './lessons/PtqQat';
import { RangeLesson } from './lessons/RangeLesson';
import { isEmbedded } from './url';

export const LESSONS = [
  { slug: 'mapping', title: '1 · The mapping', Lesson: MappingLesson },
  { slug: 'range', title: '2 · Choosing the range', Lesson: RangeLesson },
  { slug: 'granularity', title: '3 · Granularity', Lesson: GranularityLesson },
  { slug: 'formats', title: '4 · Number formats', Lesson: FormatsLesson },
  { slug: 'ptq-qat', title: '5 · PTQ vs QAT', Lesson: PtqQatLesson },
  { slug: 'static-dynamic', title: '6 · Static, dynamic, weight-only', Lesson: FormsLesson },
] as const;

export function LabApp({ path }: { path: string }) {
  const slug = path.replace(/^\/lab\/?/, '').replace(/\/$/, '');
  const lesson = LESSONS.find((l) => l.slug === slug);
  const embedded = isEmbedded();
  return (
    <main className={embedded ? 'lab embedded' : 'lab'}>
      {!embedded && (
        <header className="lab-header">
          <h1>
            <a href="/" onClick={(e) => onLinkClick(e, '/')}>
              Quantscope
            </a>{' '}
            · Lab
          </h1>
          <nav aria-label="Lessons">
            {LESSONS.map((l) => (
              <a
                key={l.slug}
                href={`/lab/${l.slug}`}
                className={l.slug === slug ? 'current' : ''}
                onClick={(e) => onLinkClick(e, `/lab/${l.slug}`)}
              >
                {l.title}
              </a>
            ))}
          </nav>
        </header>
      )}
      {lesson ? (
        <section className="card" key={lesson.slug}>
          <lesson.Lesson />
        </section>
      ) : (
        <section className="card" data-testid="lab-index">
          <h2>Learn quantization by playing with it</h2>
          <p>
            Six short lessons, each with a live figure computed by the same functions the tool quantizes models with.
            Every control is kept in the address, so a link shares a lesson exactly as you set it; add{' '}
            <code>embed=1</code> to show the figure alone.
          </p>
          <ol>
            {LESSONS.map((l) => (
              <li key={l.slug}>
                <a href={`/lab/${l.slug}`} onClick={(e) => onLinkClick(e, `/lab/${l.slug}`)}>
                  {l.title.replace(/^\d · /, '')}
                </a>
              </li>
            ))}
          </ol>
        </section>
      )}
    </main>
  );
}
