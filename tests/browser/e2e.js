// Page-side helpers of the browser tier, installed before the page's own scripts run.
// Column 0 of the page's first row of columns is the daily view, column 1 the monthly view
// (rows without columns, as the signed-in user's account bar, do not count).
(() => {
  // CSP violations go straight to Python (binding __e2eCsp), so none is lost on a reload.
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__e2eCsp(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}`
      + ` (${event.sourceFile || 'document'}:${event.lineNumber})`);
  });

  const testId = (id) => `[data-testid="${id}"]`;
  const columns = () => {
    const rows = document.querySelectorAll(`${testId('stMainBlockContainer')} ${testId('stHorizontalBlock')}`);
    const row = [...rows].find((candidate) => [...candidate.children].some((el) => el.matches(testId('stColumn'))));
    return row ? [...row.children].filter((el) => el.matches(testId('stColumn'))) : [];
  };
  const text = (el) => (el ? el.textContent : '');
  // Plotly does not keep tick nodes in drawing order after an update: sort by position.
  const byTop = (a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top;
  const byLeft = (a, b) => a.getBoundingClientRect().left - b.getBoundingClientRect().left;
  const mutations = {};

  const outside = (box, frame) => box.top < frame.top - 1 || box.bottom > frame.bottom + 1
    || box.left < frame.left - 1 || box.right > frame.right + 1;

  window.__e2e = {
    columns,
    mutations,

    // Resolves once the DOM has not changed for `quiet` ms (charts drawn, grids sized).
    settle(quiet, timeout) {
      return new Promise((resolve, reject) => {
        let timer;
        const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, quiet); });
        const limit = setTimeout(() => { observer.disconnect(); reject(new Error('page never settled')); }, timeout);
        const done = () => { observer.disconnect(); clearTimeout(limit); resolve(); };
        observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
        timer = setTimeout(done, quiet);
      });
    },

    // Records every DOM change inside column `index` under mutations[name].
    watch(name, index) {
      mutations[name] = [];
      new MutationObserver((list) => mutations[name].push(...list.map((m) => m.type)))
        .observe(columns()[index], {subtree: true, childList: true, attributes: true, characterData: true});
    },

    // Tags the element nodes of column `index`; marked() counts how many are still those nodes.
    markElements(index, token) {
      const found = columns()[index].querySelectorAll(testId('stElementContainer'));
      found.forEach((el) => { el.__e2eMark = token; });
      return found.length;
    },
    marked(index, token) {
      const found = [...columns()[index].querySelectorAll(testId('stElementContainer'))];
      return {total: found.length, marked: found.filter((el) => el.__e2eMark === token).length};
    },

    headings(index) {
      return [...columns()[index].querySelectorAll(testId('stHeading'))].map((el) => el.innerText.trim());
    },

    // The data grid draws on a canvas and mirrors the rows in view in an accessible table.
    tables(index) {
      return [...columns()[index].querySelectorAll(`${testId('stDataFrame')} table`)].map((table) => ({
        header: [...table.querySelectorAll('thead th')].map((th) => th.innerText.trim()),
        rows: [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.innerText.trim())),
      }));
    },

    charts(index) {
      return [...columns()[index].querySelectorAll(testId('stPlotlyChart'))].map((chart) => ({
        title: text(chart.querySelector('.gtitle')),
        bars: [...chart.querySelectorAll('.ytick text')].sort(byTop).map(text),
        ticks: [...chart.querySelectorAll('.xtick text')].sort(byLeft).map(text),
        axes: [...chart.querySelectorAll('.xtitle, .ytitle')].map(text),
      }));
    },

    // Faults a person would see: clipped charts, money off-screen in a daily table, empty boxes.
    layoutFaults() {
      const faults = [];
      const main = document.querySelector(testId('stMain'));
      for (const chart of document.querySelectorAll(testId('stPlotlyChart'))) {
        const box = chart.getBoundingClientRect();
        for (let up = chart.parentElement; up && up !== main; up = up.parentElement) {
          const style = getComputedStyle(up);
          if (/(auto|scroll|hidden)/.test(style.overflowX + style.overflowY) && outside(box, up.getBoundingClientRect())) {
            faults.push(`chart "${text(chart.querySelector('.gtitle'))}" clipped by ${up.getAttribute('data-testid') || up.tagName}`);
          }
        }
        if (box.right > window.innerWidth + 1) faults.push(`chart "${text(chart.querySelector('.gtitle'))}" wider than the window`);
      }
      for (const grid of columns()[0].querySelectorAll(testId('stDataFrame'))) {
        const scroller = grid.querySelector('.dvn-scroller');
        if (scroller && scroller.scrollWidth > scroller.clientWidth + 1) {
          faults.push(`daily table scrolls sideways: ${scroller.scrollWidth}px of columns in ${scroller.clientWidth}px`);
        }
      }
      for (const column of columns()) {
        for (const block of column.querySelectorAll(testId('stVerticalBlock'))) {
          const height = Math.round(block.getBoundingClientRect().height);
          if (!block.querySelector(testId('stElementContainer')) && height > 0) faults.push(`empty box ${height}px high`);
        }
      }
      return faults;
    },
  };
})();
