use std::path::Path;

use super::*;
use crate::store::{Store, StoreOptions};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9cc\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xaeB`\x82";

fn known(c: &str) -> bool {
    c.starts_with("logger/")
}

fn panel(kind: PanelKind, x: u32, y: u32, w: u32, h: u32, channels: &[&str]) -> Panel {
    Panel {
        id: 0,
        kind,
        title: String::new(),
        x,
        y,
        w,
        h,
        channels: channels.iter().map(|c| c.to_string()).collect(),
        window: GraphWindow::Hour,
        image: None,
        placements: vec![],
        rules: vec![],
    }
}

fn numbered(mut panels: Vec<Panel>) -> Vec<Panel> {
    for (i, p) in panels.iter_mut().enumerate() {
        p.id = i as u32 + 1;
    }
    panels
}

fn err(r: Result<impl std::fmt::Debug>) -> String {
    r.expect_err("refused").to_string()
}

#[test]
fn panels_must_stay_on_the_grid_apart_and_show_channels_of_this_agent() {
    let ok = numbered(vec![
        panel(PanelKind::GraphValue, 0, 0, 6, 4, &["logger/ch1"]),
        panel(PanelKind::Value, 6, 0, 6, 4, &["logger/ch1", "logger/ch2"]),
        panel(PanelKind::AlarmList, 0, 4, 12, 3, &[]),
    ]);
    check_panels(&ok, &known).unwrap();

    let mut off = ok.clone();
    off[1].x = 7;
    assert!(err(check_panels(&off, &known)).contains("leaves the 12x48 grid"));
    let mut over = ok.clone();
    over[1].x = 5;
    let e = err(check_panels(&over, &known));
    assert!(e.contains("panel 2 (value) overlaps panel 1 (graph-value)"), "{e}");
    let mut zero = ok.clone();
    zero[0].w = 0;
    assert!(err(check_panels(&zero, &known)).contains("at least 1 cell"));
    let mut foreign = ok.clone();
    foreign[0].channels = vec!["other/x".into()];
    assert!(err(check_panels(&foreign, &known)).contains("channel `other/x` is not a channel of this agent"));
    let mut malformed = ok.clone();
    malformed[0].channels = vec!["nochannel".into()];
    assert!(err(check_panels(&malformed, &known)).contains("not of the form instrument/channel"));
    let mut empty = ok.clone();
    empty[0].channels.clear();
    assert!(err(check_panels(&empty, &known)).contains("choose at least one channel"));

    let mut img = panel(PanelKind::ImageValues, 0, 8, 6, 6, &["logger/ch1"]);
    img.id = 9;
    assert!(err(check_panels(std::slice::from_ref(&img), &known)).contains("choose an image"));
    img.image = Some("../../etc/passwd".into());
    assert!(err(check_panels(std::slice::from_ref(&img), &known)).contains("not an image file name"));
    img.image = Some("img-00ff.png".into());
    img.placements = vec![Placement { channel: "logger/ch1".into(), x: 0.5, y: 1.2 }];
    assert!(err(check_panels(std::slice::from_ref(&img), &known)).contains("outside the image"));
    img.placements = vec![Placement { channel: "logger/ch2".into(), x: 0.5, y: 0.2 }];
    assert!(err(check_panels(std::slice::from_ref(&img), &known)).contains("not one of the panel's channels"));
    img.placements = vec![Placement { channel: "logger/ch1".into(), x: 0.5, y: 0.2 }];
    check_panels(&[img], &known).unwrap();
}

fn store(dir: &Path) -> Store {
    Store::open_with(&dir.join("store.sqlite"), StoreOptions::default(), &[SCHEMA_PART]).unwrap()
}

#[test]
fn boards_are_kept_reordered_and_survive_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = {
        let s = store(dir.path());
        let a = create_board(s.conn(), "Plant", &[]).unwrap();
        let b = create_board(s.conn(), "Boiler", &numbered(vec![panel(PanelKind::Value, 0, 0, 2, 2, &["logger/a"])]))
            .unwrap();
        rename_board(s.conn(), a, "Plant room").unwrap();
        reorder_boards(s.conn(), &[b, a]).unwrap();
        let e = err(reorder_boards(s.conn(), &[b]));
        assert!(e.contains("must name every board once"), "{e}");
        assert!(matches!(rename_board(s.conn(), 99, "x"), Err(DashboardError::UnknownBoard(99))));
        (a, b)
    };
    let s = store(dir.path());
    let boards = list_boards(s.conn()).unwrap();
    let names: Vec<_> = boards.iter().map(|b| (b.id, b.name.as_str(), b.panels.len())).collect();
    assert_eq!(names, [(b, "Boiler", 1), (a, "Plant room", 0)]);
    assert_eq!(panel_count(s.conn()).unwrap(), 1);
    delete_board(s.conn(), b).unwrap();
    assert_eq!(list_boards(s.conn()).unwrap().len(), 1);
}

#[test]
fn a_board_file_round_trips_with_its_image_and_a_bad_one_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("photo.png");
    std::fs::write(&src, PNG).unwrap();
    let name = import_image(dir.path(), &src).unwrap();
    assert!(dir.path().join(IMAGE_DIR).join(&name).is_file() && name.ends_with(".png"), "{name}");
    assert!(image_data_url(dir.path(), &name).unwrap().starts_with("data:image/png;base64,iVBOR"));

    let mut img = panel(PanelKind::ImageValues, 0, 0, 6, 6, &["logger/ch1"]);
    img.image = Some(name.clone());
    img.placements = vec![Placement { channel: "logger/ch1".into(), x: 0.25, y: 0.75 }];
    let board = Board {
        id: 1,
        name: "Plant".into(),
        panels: numbered(vec![img, panel(PanelKind::Graph, 6, 0, 6, 6, &["logger/ch1"])]),
    };
    let text = export_json(dir.path(), &board).unwrap();
    let other = tempfile::tempdir().unwrap();
    let (got_name, panels) = parse_import(&text, &known).unwrap().keep_images(other.path()).unwrap();
    assert_eq!(got_name, "Plant");
    assert_eq!(panels[0].placements, board.panels[0].placements);
    let copied = panels[0].image.as_ref().unwrap();
    assert_eq!(std::fs::read(other.path().join(IMAGE_DIR).join(copied)).unwrap(), PNG);

    let cases: &[(&str, String)] = &[
        ("not JSON", "{".into()),
        ("no `meterdeck_dashboard` key", r#"{"name": "x", "panels": []}"#.into()),
        ("version 2 is not one this Meterdeck reads", r#"{"meterdeck_dashboard": 2, "name": "x", "panels": []}"#.into()),
        (
            "`panels[0].kind`: unknown variant `pie`",
            r#"{"meterdeck_dashboard": 1, "name": "x", "panels": [{"kind": "pie", "x": 0, "y": 0, "w": 1, "h": 1}]}"#.into(),
        ),
        (
            "`panels[0].colour`: unknown field",
            r#"{"meterdeck_dashboard": 1, "name": "x", "panels": [{"kind": "value", "x": 0, "y": 0, "w": 1, "h": 1, "colour": 1}]}"#
                .into(),
        ),
        (
            "channel `far/away` is not a channel of this agent",
            r#"{"meterdeck_dashboard": 1, "name": "x", "panels": [{"kind": "value", "x": 0, "y": 0, "w": 1, "h": 1, "channels": ["far/away"]}]}"#
                .into(),
        ),
        (
            "overlaps panel 1",
            r#"{"meterdeck_dashboard": 1, "name": "x", "panels": [
                {"kind": "value", "x": 0, "y": 0, "w": 4, "h": 2, "channels": ["logger/a"]},
                {"kind": "value", "x": 3, "y": 1, "w": 4, "h": 2, "channels": ["logger/a"]}]}"#
                .into(),
        ),
        (
            "leaves the 12x48 grid",
            r#"{"meterdeck_dashboard": 1, "name": "x", "panels": [{"kind": "value", "x": 10, "y": 0, "w": 4, "h": 2, "channels": ["logger/a"]}]}"#
                .into(),
        ),
        (
            "image `img-1.png` is not in the file's `images`",
            r#"{"meterdeck_dashboard": 1, "name": "x", "panels": [{"kind": "image", "x": 0, "y": 0, "w": 4, "h": 2, "image": "img-1.png"}]}"#
                .into(),
        ),
        (
            "image `img-1.png` is not a PNG",
            r#"{"meterdeck_dashboard": 1, "name": "x", "images": {"img-1.png": "aGVsbG8="}, "panels": [{"kind": "image", "x": 0, "y": 0, "w": 4, "h": 2, "image": "img-1.png"}]}"#
                .into(),
        ),
        ("name: enter a name", r#"{"meterdeck_dashboard": 1, "name": " ", "panels": []}"#.into()),
    ];
    for (want, text) in cases {
        let e = err(parse_import(text, &known));
        assert!(e.starts_with("dashboard file: ") && e.contains(want), "want `{want}` in: {e}");
    }
}

#[test]
fn only_images_are_copied_in() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("notes.txt");
    std::fs::write(&src, "hello").unwrap();
    let e = err(import_image(dir.path(), &src));
    assert!(e.contains("is not a PNG, JPEG, GIF, WebP or SVG image"), "{e}");
    let svg = dir.path().join("plan.svg");
    std::fs::write(&svg, "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    assert!(import_image(dir.path(), &svg).unwrap().ends_with(".svg"));
    assert!(err(image_data_url(dir.path(), "../store.sqlite")).contains("not an image of the dashboards"));
}
