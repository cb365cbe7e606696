// crawlee_crawl.mjs START_URL MAX_DEPTH CONCURRENCY - Crawlee's CheerioCrawler over the bench
// site: the same pages as the worker's web job (start page = depth 1, links followed while the
// depth allows, each URL once), the same extraction (h1/h2, p, img src, a href), in-memory
// storage, no delay. Prints one JSON line: pages, seconds, peak RSS (VmHWM) in kB.
import { readFileSync } from 'node:fs';
import { CheerioCrawler, Configuration } from '@crawlee/cheerio';

const [startUrl, maxDepthArg, concurrencyArg] = process.argv.slice(2);
const maxDepth = Number(maxDepthArg || 4);
const concurrency = Number(concurrencyArg || 4);
const sections = [];
const pages = [];

const crawler = new CheerioCrawler({
    minConcurrency: concurrency,
    maxConcurrency: concurrency,
    maxRequestsPerCrawl: 100000,
    maxRequestRetries: 0,
    async requestHandler({ request, $, enqueueLinks }) {
        let current = null;
        $('h1, h2, p, img, a').each((_, el) => {
            const tag = el.tagName.toLowerCase();
            if (tag === 'h1' || tag === 'h2') {
                current = { title: $(el).text(), paragraphs: [], images: [] };
                sections.push(current);
            } else if (tag === 'p' && current) {
                const t = $(el).text();
                if (!current.paragraphs.includes(t)) current.paragraphs.push(t);
            } else if (tag === 'img' && current) {
                current.images.push(new URL($(el).attr('src') ?? '', request.loadedUrl).href);
            } else if (tag === 'a') {
                pages.push(new URL($(el).attr('href') ?? '', request.loadedUrl).href);
            }
        });
        const depth = request.userData.depth ?? 1;
        if (depth < maxDepth) {
            await enqueueLinks({ strategy: 'same-hostname', userData: { depth: depth + 1 } });
        }
    },
}, new Configuration({ persistStorage: false, purgeOnStart: true }));

const t0 = process.hrtime.bigint();
const stats = await crawler.run([{ url: startUrl, userData: { depth: 1 } }]);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1];
console.log(JSON.stringify({ pages: stats.requestsFinished, sections: sections.length,
                             seconds, peak_rss_kb: Number(hwm) }));
