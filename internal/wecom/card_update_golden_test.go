package wecom

import "context"

// The golden cases of §14 interactive cards (testdata/golden/message_update_template_card*.json
// and the vote card), run by TestGolden.
func init() {
	goldenCases = append(goldenCases,
		goldenCase{"message_update_template_card", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.UpdateTemplateCard(ctx, UpdateTemplateCardRequest{UserIDs: []string{"userid1", "userid2"}, PartyIDs: []int{2, 3},
				TagIDs: []int{44, 55}, AgentID: 1, ResponseCode: "response_code", ReplaceName: "replace_name"})
		}, []string{"userid1", "userid2"}},
		goldenCase{"message_update_template_card_card", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.UpdateTemplateCard(ctx, UpdateTemplateCardRequest{AtAll: true, AgentID: 1000002, ResponseCode: "RESPONSE_CODE", EnableIDTrans: 1,
				TemplateCard: &TemplateCard{
					CardType:  CardTypeButtonInteraction,
					MainTitle: &CardTitle{Title: "[RESOLVED] HighCPU", Desc: "resolved at 10:30"},
					ButtonSelection: &CardQuestion{QuestionKey: "btn_question_key1", Title: "您的身份", SelectedID: "btn_selection_id1",
						OptionList: []CardOption{{ID: "btn_selection_id1", Text: "100分"}, {ID: "btn_selection_id2", Text: "101分"}}},
					ButtonList: []CardButton{{Text: "按钮1", Style: 4, Key: "BUTTONKEYONE"}, {Type: CardButtonURL, Text: "按钮2", Style: 1, URL: "https://work.weixin.qq.com"}},
					TaskID:     "task_id",
				}})
		}, []string(nil)},
		goldenCase{"message_send_template_card_vote_interaction", func(ctx context.Context, c *Client, _ *WebhookClient) (any, error) {
			return c.SendMessage(ctx, Message{ToUser: []string{"UserID1"}, AgentID: 1, TemplateCard: &TemplateCard{
				CardType:  CardTypeVoteInteraction,
				MainTitle: &CardTitle{Title: "欢迎使用企业微信", Desc: "您的好友正在邀请您加入企业微信"},
				TaskID:    "task_id",
				Checkbox: &CardCheckbox{QuestionKey: "question_key1", Mode: 1, OptionList: []CardOption{
					{ID: "option_id1", Text: "选择题选项1", IsChecked: true}, {ID: "option_id2", Text: "选择题选项2"}}},
				SubmitButton: &CardSubmitButton{Text: "提交", Key: "key"},
			}})
		}, &SendResult{MsgID: "msg7", ResponseCode: "rc7"}},
	)
}
