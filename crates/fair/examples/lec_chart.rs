//! Writes the loss exceedance chart of a scenario file as SVG (portfolio, each risk, tolerance):
//! `cargo run -p isms-fair --example lec_chart -- INPUT > chart.svg`.

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: lec_chart INPUT"))?;
    let input = isms_fair::parse_input(&std::fs::read_to_string(&path)?)?;
    let report = isms_fair::simulate(&input, &isms_fair::Options::default())?;
    let mut curves: Vec<(&str, &[(f64, f64)])> = vec![("Portfolio", &report.portfolio.lec)];
    for r in &report.risks {
        curves.push((&r.name, &r.summary.lec));
    }
    let tolerance: Vec<(f64, f64)> = input
        .tolerance
        .iter()
        .map(|p| (p.loss, p.probability))
        .collect();
    let tol = (!tolerance.is_empty()).then_some(&tolerance[..]);
    println!("{}", isms_fair::lec_svg(&curves, tol, 800, 480));
    Ok(())
}
