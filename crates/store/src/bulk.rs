//! Bulk writes send their rows as one JSON parameter that the database unpacks.
//! A statement with thousands of `$n` placeholders costs more to parse, plan
//! and bind than the rows cost to write; one JSON text keeps the statement
//! short and the same for every chunk.

use crate::db::Backend;

/// Rows per bulk statement: large enough that the round trip and the
/// statement overhead vanish, small enough to report progress often.
pub(crate) const BULK_ROWS: usize = 1000;

/// How a column is read back out of the JSON row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Int,
    Text,
    Float,
}

/// A JSON array of rows, each an array of scalars.
#[derive(Debug)]
pub(crate) struct JsonRows {
    buf: String,
    rows: usize,
    first_in_row: bool,
}

impl JsonRows {
    pub fn new() -> Self {
        JsonRows {
            buf: String::from("["),
            rows: 0,
            first_in_row: true,
        }
    }

    /// Starts the next row.
    pub fn row(&mut self) -> &mut Self {
        if self.rows > 0 {
            self.buf.push_str("],");
        }
        self.buf.push('[');
        self.rows += 1;
        self.first_in_row = true;
        self
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    fn next(&mut self) {
        if !self.first_in_row {
            self.buf.push(',');
        }
        self.first_in_row = false;
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.next();
        self.buf.push_str(&v.to_string());
        self
    }

    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    pub fn opt_float(&mut self, v: Option<f64>) -> &mut Self {
        match v {
            Some(v) if v.is_finite() => {
                self.next();
                self.buf
                    .push_str(&serde_json::to_string(&v).unwrap_or_default());
                self
            }
            _ => self.null(),
        }
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.next();
        // Serialising a string cannot fail.
        self.buf
            .push_str(&serde_json::to_string(v).unwrap_or_default());
        self
    }

    pub fn opt_str(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(v),
            None => self.null(),
        }
    }

    fn null(&mut self) -> &mut Self {
        self.next();
        self.buf.push_str("null");
        self
    }

    pub fn finish(mut self) -> String {
        if self.rows > 0 {
            self.buf.push(']');
        }
        self.buf.push(']');
        self.buf
    }
}

/// A JSON row's columns: the name each value is selected as, and its type.
pub(crate) type Columns<'a> = &'a [(&'a str, Col)];

/// `SELECT <columns> FROM <rows>` reading rows of `cols` out of the JSON
/// text in parameter `$param`, with the same types on both backends.
pub(crate) fn select_json(backend: Backend, cols: Columns, param: usize) -> String {
    let mut s = String::from("SELECT ");
    for (i, (name, col)) in cols.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let expr = match col {
            Col::Int => format!("CAST(r.v->>{i} AS BIGINT)"),
            Col::Text => format!("r.v->>{i}"),
            Col::Float => format!("CAST(r.v->>{i} AS DOUBLE PRECISION)"),
        };
        s.push_str(&format!("{expr} AS {name}"));
    }
    match backend {
        // jsonb: parsed once, then each `->>` is a lookup rather than a re-parse.
        Backend::Postgres => s.push_str(&format!(
            " FROM jsonb_array_elements(CAST(${param} AS JSONB)) AS r(v)"
        )),
        Backend::Sqlite => s.push_str(&format!(
            " FROM (SELECT value AS v FROM json_each(${param})) AS r"
        )),
    }
    s
}

/// `INSERT INTO table (columns) SELECT … FROM <JSON rows in $1>`; the
/// caller may append an `ON CONFLICT` clause.
pub(crate) fn insert_json(backend: Backend, table: &str, cols: Columns) -> String {
    let names: Vec<&str> = cols.iter().map(|(name, _)| *name).collect();
    // `WHERE true` tells SQLite's parser that a following ON CONFLICT belongs
    // to the INSERT, not to a join.
    format!(
        "INSERT INTO {table} ({}) {} WHERE true",
        names.join(", "),
        select_json(backend, cols, 1)
    )
}

#[cfg(test)]
mod tests {
    use super::JsonRows;

    #[test]
    fn writes_rows_as_json_arrays() {
        assert_eq!(JsonRows::new().finish(), "[]");
        let mut rows = JsonRows::new();
        rows.row().int(1).str("a\"b\\c\n").opt_str(None);
        rows.row()
            .opt_int(Some(-2))
            .opt_float(Some(31.25))
            .opt_float(Some(f64::NAN));
        assert_eq!(rows.finish(), r#"[[1,"a\"b\\c\n",null],[-2,31.25,null]]"#);
    }
}
