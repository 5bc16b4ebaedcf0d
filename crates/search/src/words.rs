//! Cutting text into the words an index keeps: Chinese by jieba's search
//! mode (a long word and the shorter words inside it), everything else by
//! runs of letters and digits. Lower-casing and English stemming follow as
//! filters, so the same analysis serves documents and queries.

use jieba_rs::Jieba;
use std::sync::{Arc, OnceLock};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The dictionary takes a few hundred milliseconds to load: once per process.
fn jieba() -> Arc<Jieba> {
    static JIEBA: OnceLock<Arc<Jieba>> = OnceLock::new();
    JIEBA.get_or_init(|| Arc::new(Jieba::new())).clone()
}

fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// A letter or digit that is not Chinese: words, numbers, VINs, models.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() && !is_han(c)
}

/// The words of `text` as byte ranges, in order. A run such as
/// `2026-000123` or `LX-5` is a word, and so is each of its parts.
pub fn words(text: &str) -> Vec<(usize, usize)> {
    let jieba = jieba();
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if is_han(c) {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek().filter(|(_, c)| is_han(*c)) {
                end = i + c.len_utf8();
                chars.next();
            }
            let run = &text[start..end];
            for w in jieba.cut_for_search(run, true) {
                let from = start + (w.word.as_ptr() as usize - run.as_ptr() as usize);
                out.push((from, from + w.word.len()));
            }
        } else if is_word(c) {
            let mut end = start;
            let mut parts = vec![start];
            // Joined by - . _ / between letters or digits: one word.
            while let Some(&(i, c)) = chars.peek() {
                if is_word(c) {
                    end = i + c.len_utf8();
                    chars.next();
                } else if "-._/".contains(c) {
                    let mut ahead = chars.clone();
                    ahead.next();
                    match ahead.peek() {
                        Some(&(j, n)) if is_word(n) => {
                            parts.push(i);
                            parts.push(j);
                            chars.next();
                        }
                        _ => break,
                    }
                } else {
                    break;
                }
            }
            out.push((start, end));
            if parts.len() > 1 {
                parts.push(end);
                // parts: start, (sep, next)*, end: each part between them.
                let mut from = parts[0];
                for pair in parts[1..].chunks(2) {
                    out.push((from, pair[0]));
                    if let Some(&next) = pair.get(1) {
                        from = next;
                    }
                }
            }
        } else {
            chars.next();
        }
    }
    out
}

/// The words of a text for tantivy, positions counting words in order.
#[derive(Clone)]
pub struct WordTokenizer {
    tokens: Vec<Token>,
}

impl WordTokenizer {
    pub fn new() -> Self {
        // Load the dictionary now, not on the first document.
        jieba();
        WordTokenizer { tokens: Vec::new() }
    }
}

impl Default for WordTokenizer {
    fn default() -> Self {
        Self::new()
    }
}

pub struct WordStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.tokens.clear();
        for (position, (from, to)) in words(text).into_iter().enumerate() {
            self.tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position,
                text: text[from..to].to_string(),
                position_length: 1,
            });
        }
        WordStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> Vec<&str> {
        words(text).into_iter().map(|(a, b)| &text[a..b]).collect()
    }

    #[test]
    fn chinese_english_and_numbers() {
        let w = cut("首次保养周期是5000公里");
        assert!(
            w.contains(&"保养")
                && w.contains(&"周期")
                && w.contains(&"5000")
                && w.contains(&"公里"),
            "{w:?}"
        );
        assert_eq!(cut("Brake recall, 2026!"), ["Brake", "recall", "2026"]);
        assert_eq!(
            cut("工单 2026-000123 已结"),
            ["工单", "2026-000123", "2026", "000123", "已结"]
        );
        assert_eq!(cut("VIN LSVAM4187C2184841."), ["VIN", "LSVAM4187C2184841"]);
        assert_eq!(cut("a - b"), ["a", "b"], "a lone dash joins nothing");
        assert!(cut("").is_empty());
        let long = cut("中华人民共和国");
        assert!(
            long.contains(&"中华人民共和国") && long.contains(&"中华"),
            "{long:?}"
        );
    }
}
