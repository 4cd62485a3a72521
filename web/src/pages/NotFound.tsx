/** Any unknown path. */
import type { ReactNode } from 'react';
import { Link } from 'react-router';

/** The 404 page. */
export function NotFound(): ReactNode {
  return (
    <div className="page">
      <section className="panel">
        <h1>Page not found</h1>
        <p>
          Nothing lives at this address. <Link to="/">Back to the explorer</Link>.
        </p>
      </section>
    </div>
  );
}
