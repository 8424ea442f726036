fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&args[1]);
    let ids: Vec<u32> = args[2].split(',').map(|s| s.parse().unwrap()).collect();
    let m = tally_local::LlamaModel::load(path).unwrap();
    let (toks, logits) = m.greedy_trace(&ids, 40, 2).unwrap();
    for (t, l) in toks.iter().zip(&logits) {
        let mut idx: Vec<usize> = (0..l.len()).collect();
        idx.sort_by(|&a, &b| l[b].partial_cmp(&l[a]).unwrap());
        let max = l[idx[0]];
        let lse = max + l.iter().map(|x| (x - max).exp()).sum::<f32>().ln();
        println!(
            "{t}: {:?}",
            idx[..4]
                .iter()
                .map(|&i| (i, l[i] - lse))
                .collect::<Vec<_>>()
        );
    }
}
