package io.lit4j.datasets;

import io.lit4j.LitException;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Fashion-MNIST captions in six languages, three of them not in Latin script (English, German,
 * Spanish, Russian, Chinese, Japanese), for the multilingual study (LiT §5.5). Each language has
 * its own class names (the words a shop in that language uses, in native script, no
 * transliteration), its own caption frames (whole sentences or the captions a listing carries,
 * written so the class name needs no agreement: a colon, a nominative, or a particle), and its own
 * zero-shot templates, which are never a caption frame. English is the reference recipe
 * ({@link ReferenceCaptions}). Written by hand: no library ships captions.
 */
public final class MultilingualCaptions {
    /** One language: its code, frames ({@code {n}}: the class name), names per class and evaluation templates ({@code {}}). */
    public record Language(String code, String name, List<String> frames, List<List<String>> names, List<String> templates) {
        public Language {
            if (names.size() != ReferenceCaptions.NAMES.size()) {
                throw new LitException("language " + code + " names " + names.size() + " classes, not 10");
            }
        }

        /** The name zero-shot prompts use for each class (the first). */
        public List<String> canonical() {
            return names.stream().map(List::getFirst).toList();
        }

        /** A caption for class {@code label} drawn from {@code rng}. */
        public String caption(int label, SplittableRandom rng) {
            if (code.equals("en")) {
                return ReferenceCaptions.caption(label, rng);
            }
            return Scenes.pick(rng, frames).replace("{n}", Scenes.pick(rng, names.get(label)));
        }
    }

    public static final Language EN = new Language("en", "English", ReferenceCaptions.FRAMES, ReferenceCaptions.NAMES,
            ReferenceCaptions.TEMPLATES);

    public static final Language DE = new Language("de", "German",
            List.of("Produktfoto: {n}", "{n} vor dunklem Hintergrund", "Graustufenbild: {n}", "im Angebot: {n}", "Katalogbild: {n}",
                    "{n}, Ansicht von vorne", "Neu im Onlineshop: {n}", "{n} auf schwarzem Grund", "Modeartikel: {n}",
                    "kleines Schwarzweißbild: {n}"),
            List.of(List.of("T-Shirt", "Top", "Shirt mit kurzen Ärmeln"), List.of("Hose", "Jeans", "Stoffhose"),
                    List.of("Pullover", "Pulli", "Strickpullover"), List.of("Kleid", "Sommerkleid", "Abendkleid"),
                    List.of("Mantel", "Jacke", "Wintermantel"), List.of("Sandale", "Sandalen", "Riemchensandale"),
                    List.of("Hemd", "Bluse", "Oberhemd"), List.of("Turnschuh", "Sneaker", "Laufschuh"),
                    List.of("Tasche", "Handtasche", "Umhängetasche"), List.of("Stiefelette", "Stiefel", "Halbstiefel")),
            List.of("ein Foto: {}.", "ein unscharfes Foto: {}.", "Schwarzweißfoto: {}.", "Nahaufnahme: {}.", "Abbildung: {}."));

    public static final Language ES = new Language("es", "Spanish",
            List.of("foto de producto: {n}", "{n} sobre fondo oscuro", "imagen en escala de grises: {n}", "en oferta: {n}",
                    "catálogo de moda: {n}", "{n}, vista frontal", "novedad en la tienda online: {n}", "{n} sobre fondo negro",
                    "artículo de moda: {n}", "pequeña imagen en blanco y negro: {n}"),
            List.of(List.of("camiseta", "top", "camiseta de manga corta"), List.of("pantalón", "pantalones", "vaqueros"),
                    List.of("jersey", "suéter", "jersey de punto"), List.of("vestido", "vestido de verano", "vestido largo"),
                    List.of("abrigo", "chaqueta", "abrigo de invierno"), List.of("sandalia", "sandalias", "chancla"),
                    List.of("camisa", "blusa", "camisa de vestir"), List.of("zapatilla deportiva", "zapatillas", "zapatilla de correr"),
                    List.of("bolso", "bolso de mano", "cartera"), List.of("botín", "bota", "botines")),
            List.of("una foto: {}.", "una foto borrosa: {}.", "foto en blanco y negro: {}.", "primer plano: {}.", "ilustración: {}."));

    public static final Language RU = new Language("ru", "Russian",
            List.of("фото товара: {n}", "{n} на тёмном фоне", "чёрно-белое изображение: {n}", "в продаже: {n}", "каталог одежды: {n}",
                    "{n}, вид спереди", "новинка в интернет-магазине: {n}", "{n} на чёрном фоне", "модная вещь: {n}",
                    "на снимке {n}"),
            List.of(List.of("футболка", "топ", "майка"), List.of("брюки", "штаны", "джинсы"),
                    List.of("свитер", "пуловер", "джемпер"), List.of("платье", "сарафан", "вечернее платье"),
                    List.of("пальто", "куртка", "плащ"), List.of("сандалии", "босоножки", "сандалия"),
                    List.of("рубашка", "блузка", "сорочка"), List.of("кроссовки", "кеды", "беговые кроссовки"),
                    List.of("сумка", "сумочка", "дамская сумка"), List.of("ботильоны", "ботинки", "полусапожки")),
            List.of("фотография: {}.", "размытая фотография: {}.", "чёрно-белое фото: {}.", "крупный план: {}.", "это {}."));

    public static final Language ZH = new Language("zh", "Chinese",
            List.of("一张{n}的灰度照片", "深色背景上的{n}", "商品图：{n}", "正在出售的{n}", "{n}的正面图", "网店里的{n}",
                    "黑色背景上的{n}", "时尚单品：{n}", "这是我新买的{n}", "一张小小的黑白图片，上面是{n}"),
            List.of(List.of("T恤", "上衣", "短袖衫"), List.of("裤子", "长裤", "西裤"), List.of("套头衫", "毛衣", "针织衫"),
                    List.of("连衣裙", "裙子", "长裙"), List.of("外套", "夹克", "大衣"), List.of("凉鞋", "拖鞋", "凉拖"),
                    List.of("衬衫", "女式衬衫", "衬衣"), List.of("运动鞋", "跑鞋", "球鞋"), List.of("包", "手提包", "挎包"),
                    List.of("短靴", "踝靴", "靴子")),
            List.of("一张{}的照片。", "一张模糊的{}的照片。", "{}的黑白照片。", "{}的特写。", "这是{}。"));

    public static final Language JA = new Language("ja", "Japanese",
            List.of("{n}のグレースケール写真", "暗い背景の上の{n}", "商品写真：{n}", "販売中の{n}", "正面から見た{n}", "ネットショップの{n}",
                    "黒い背景に置かれた{n}", "ファッションアイテム：{n}", "新しく買った{n}", "小さな白黒画像に写った{n}"),
            List.of(List.of("Tシャツ", "トップス", "半袖シャツ"), List.of("ズボン", "パンツ", "スラックス"),
                    List.of("セーター", "プルオーバー", "ニット"), List.of("ワンピース", "ドレス", "ロングドレス"),
                    List.of("コート", "ジャケット", "上着"), List.of("サンダル", "ミュール", "ビーチサンダル"),
                    List.of("シャツ", "ブラウス", "ワイシャツ"), List.of("スニーカー", "ランニングシューズ", "運動靴"),
                    List.of("バッグ", "ハンドバッグ", "かばん"), List.of("ショートブーツ", "ブーツ", "アンクルブーツ")),
            List.of("{}の写真。", "{}のぼやけた写真。", "{}の白黒写真。", "{}のクローズアップ。", "これは{}です。"));

    /** The six languages, English first. */
    public static final List<Language> ALL = List.of(EN, DE, ES, RU, ZH, JA);

    private static final Map<String, Language> BY_CODE = Map.of("en", EN, "de", DE, "es", ES, "ru", RU, "zh", ZH, "ja", JA);

    private MultilingualCaptions() {
    }

    /** A language by its code (en, de, es, ru, zh, ja). */
    public static Language of(String code) {
        Language l = BY_CODE.get(code);
        if (l == null) {
            throw new LitException("no captions in language '" + code + "' (have " + ALL.stream().map(Language::code).toList() + ")");
        }
        return l;
    }

    /**
     * The one caption of image {@code index} of class {@code label} under {@code seed}: with
     * {@code languages} = [en] the reference caption, otherwise a language drawn uniformly first.
     */
    public static String caption(List<Language> languages, int label, long seed, int index) {
        SplittableRandom rng = new SplittableRandom(Scenes.mix(Scenes.mix(seed * 0x9E3779B97F4A7C15L + 55) ^ index));
        Language l = languages.size() == 1 ? languages.getFirst() : languages.get(rng.nextInt(languages.size()));
        return l.caption(label, rng);
    }
}
