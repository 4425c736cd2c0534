package wecom

import (
	"context"
	"net/url"
	"strconv"
)

// Departments manages the org chart (§2). The writes need the contacts-sync secret.
type Departments interface {
	CreateDepartment(ctx context.Context, req CreateDepartmentRequest) (id int, err error)
	UpdateDepartment(ctx context.Context, req UpdateDepartmentRequest) error
	DeleteDepartment(ctx context.Context, id int) error
	GetDepartment(ctx context.Context, id int) (*Department, error)
	ListDepartments(ctx context.Context, id int) ([]Department, error)
	SimpleListDepartments(ctx context.Context, id int) ([]DepartmentRef, error)
}

// RootDepartmentID is the id of every corp's root department.
const RootDepartmentID = 1

// Department is a department as department/get and department/list return it.
type Department struct {
	// ID is the department id; the root is 1.
	ID int `json:"id"`
	// Name is 1–32 characters, unique among siblings.
	Name string `json:"name"`
	// NameEn is the English name (only with multi-language enabled in admin).
	NameEn string `json:"name_en,omitempty"`
	// DepartmentLeader lists the leaders' userids.
	DepartmentLeader []string `json:"department_leader,omitempty"`
	// ParentID is the parent's id (0 for the root).
	ParentID int `json:"parentid"`
	// Order sorts siblings; larger first. Range [0, 2^32).
	Order uint32 `json:"order"`
}

// DepartmentRef is an item of department/simplelist.
type DepartmentRef struct {
	ID       int    `json:"id"`
	ParentID int    `json:"parentid"`
	Order    uint32 `json:"order"`
}

// CreateDepartmentRequest is the body of department/create.
type CreateDepartmentRequest struct {
	// Name is required: 1–32 characters, none of \ : * ? " < > |.
	Name string `json:"name"`
	// NameEn is optional, same rules.
	NameEn string `json:"name_en,omitempty"`
	// ParentID is required and must exist.
	ParentID int `json:"parentid"`
	// Order is optional; nil leaves it to WeCom. 0 is a valid order.
	Order *uint32 `json:"order,omitempty"`
	// ID is optional and must be > 1; 0 lets WeCom choose. Choosing the id makes a lost reply
	// recoverable: the retry reports 60008 (IsAlreadyExists) instead of creating twice.
	ID int `json:"id,omitempty"`
}

// UpdateDepartmentRequest is the body of department/update. Only ID is required; nil fields
// are not sent and stay unchanged in WeCom.
type UpdateDepartmentRequest struct {
	ID       int     `json:"id"`
	Name     *string `json:"name,omitempty"`
	NameEn   *string `json:"name_en,omitempty"`
	ParentID *int    `json:"parentid,omitempty"`
	Order    *uint32 `json:"order,omitempty"`
}

// CreateDepartment creates a department and returns its id (POST department/create).
func (c *Client) CreateDepartment(ctx context.Context, req CreateDepartmentRequest) (int, error) {
	var resp struct {
		ID int `json:"id"`
	}
	if err := c.call(ctx, epDepartmentCreate, nil, req, &resp); err != nil {
		return 0, err
	}
	if resp.ID == 0 {
		resp.ID = req.ID
	}
	return resp.ID, nil
}

// UpdateDepartment changes the given fields (POST department/update).
func (c *Client) UpdateDepartment(ctx context.Context, req UpdateDepartmentRequest) error {
	return c.call(ctx, epDepartmentUpdate, nil, req, nil)
}

// DeleteDepartment deletes an empty, non-root department (GET department/delete?id=).
func (c *Client) DeleteDepartment(ctx context.Context, id int) error {
	return c.call(ctx, epDepartmentDelete, url.Values{"id": {strconv.Itoa(id)}}, nil, nil)
}

// GetDepartment returns one department (GET department/get?id=).
func (c *Client) GetDepartment(ctx context.Context, id int) (*Department, error) {
	var resp struct {
		Department Department `json:"department"`
	}
	if err := c.call(ctx, epDepartmentGet, url.Values{"id": {strconv.Itoa(id)}}, nil, &resp); err != nil {
		return nil, err
	}
	return &resp.Department, nil
}

// ListDepartments returns department id and all its descendants, or the whole tree the app
// can see when id is 0 (GET department/list[?id=]). WeCom recommends SimpleListDepartments
// plus GetDepartment instead, as this call is slow.
func (c *Client) ListDepartments(ctx context.Context, id int) ([]Department, error) {
	var resp struct {
		Department []Department `json:"department"`
	}
	if err := c.call(ctx, epDepartmentList, optionalID("id", id), nil, &resp); err != nil {
		return nil, err
	}
	return resp.Department, nil
}

// SimpleListDepartments returns the ids of department id and its descendants, or of the
// whole visible tree when id is 0 (GET department/simplelist[?id=]).
func (c *Client) SimpleListDepartments(ctx context.Context, id int) ([]DepartmentRef, error) {
	var resp struct {
		DepartmentID []DepartmentRef `json:"department_id"`
	}
	if err := c.call(ctx, epDepartmentSimpleList, optionalID("id", id), nil, &resp); err != nil {
		return nil, err
	}
	return resp.DepartmentID, nil
}

// optionalID is a query with name=id, or none when id is 0 (department ids start at 1).
func optionalID(name string, id int) url.Values {
	if id == 0 {
		return nil
	}
	return url.Values{name: {strconv.Itoa(id)}}
}
