//! Windowing for long tables: which rows to render for a scroll position, and how much
//! empty space stands in for the rest. Collapsed rows have one fixed height; an expanded
//! row adds a fixed-height detail panel (which scrolls inside itself).

/// The pixel sizes the stylesheet gives rows (kept in sync with `style.css`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowSizes {
    /// A collapsed row.
    pub(crate) row: u32,
    /// The extra height of an expanded row's detail panel.
    pub(crate) detail: u32,
}

/// What to render: rows `start..end` of the ordered list, with spacers above and below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// First row rendered.
    pub(crate) start: usize,
    /// One past the last row rendered.
    pub(crate) end: usize,
    /// Height of the spacer above the rendered rows.
    pub(crate) pad_top: u32,
    /// Height of the spacer below them.
    pub(crate) pad_bottom: u32,
}

/// Prefix offsets: `offsets[i]` is the top of row `i`; the last entry is the total height.
pub(crate) fn offsets(expanded: impl Iterator<Item = bool>, sizes: RowSizes) -> Vec<u32> {
    let mut out = vec![0];
    let mut top = 0u32;
    for open in expanded {
        top = top.saturating_add(sizes.row + if open { sizes.detail } else { 0 });
        out.push(top);
    }
    out
}

/// The rows visible in a viewport of `height` pixels scrolled to `scroll_top`, plus
/// `overscan` rows on each side so fast scrolling and Tab never meet a blank.
pub(crate) fn window(offsets: &[u32], scroll_top: u32, height: u32, overscan: usize) -> Window {
    let rows = offsets.len().saturating_sub(1);
    let total = offsets.last().copied().unwrap_or(0);
    if rows == 0 {
        return Window {
            start: 0,
            end: 0,
            pad_top: 0,
            pad_bottom: 0,
        };
    }
    // The row containing `y`: the last offset not after it.
    let row_at = |y: u32| {
        offsets
            .partition_point(|&top| top <= y)
            .saturating_sub(1)
            .min(rows - 1)
    };
    let first = row_at(scroll_top);
    let last = row_at(scroll_top.saturating_add(height.saturating_sub(1)));
    let start = first.saturating_sub(overscan);
    let end = (last + 1 + overscan).min(rows);
    Window {
        start,
        end,
        pad_top: offsets[start],
        pad_bottom: total - offsets[end],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: RowSizes = RowSizes {
        row: 40,
        detail: 200,
    };

    #[test]
    fn offsets_add_detail_panels() {
        assert_eq!(
            offsets([false, true, false].into_iter(), SIZES),
            vec![0, 40, 280, 320]
        );
        assert_eq!(offsets(std::iter::empty(), SIZES), vec![0]);
    }

    #[test]
    fn renders_only_what_is_visible() {
        let offs = offsets(std::iter::repeat_n(false, 10_000), SIZES);
        let w = window(&offs, 0, 400, 5);
        assert_eq!((w.start, w.end, w.pad_top), (0, 15, 0));
        assert_eq!(w.pad_bottom, (10_000 - 15) * 40);
        let w = window(&offs, 40_000, 400, 5);
        assert_eq!((w.start, w.end), (995, 1015));
        assert_eq!(
            w.pad_top + (w.end - w.start) as u32 * 40 + w.pad_bottom,
            400_000
        );
        let w = window(&offs, 10_000_000, 400, 5);
        assert_eq!((w.start, w.end, w.pad_bottom), (9994, 10_000, 0));
    }

    #[test]
    fn expanded_rows_shift_the_window() {
        let offs = offsets((0..100).map(|i| i == 0), SIZES);
        let w = window(&offs, 240, 80, 0);
        assert_eq!((w.start, w.end, w.pad_top), (1, 3, 240));
    }

    #[test]
    fn small_lists_render_whole() {
        let offs = offsets(std::iter::repeat_n(false, 3), SIZES);
        assert_eq!(
            window(&offs, 0, 600, 5),
            Window {
                start: 0,
                end: 3,
                pad_top: 0,
                pad_bottom: 0
            }
        );
        assert_eq!(
            window(&[0], 0, 600, 5),
            Window {
                start: 0,
                end: 0,
                pad_top: 0,
                pad_bottom: 0
            }
        );
    }
}
